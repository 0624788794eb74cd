/**
 * Cross-instance wake-ups over PostgreSQL LISTEN/NOTIFY. Each instance holds one dedicated LISTEN
 * connection (pooled connections cannot listen) and reconnects with backoff when it drops; after a
 * reconnect it reports `null` so every local waiter re-reads what it may have missed. Notifications
 * carry the sending instance's origin id, and an instance ignores its own: it already woke its local
 * waiters directly.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Broadcast, Wakeup } from '../types.js';

export const CHANNEL = 'amtp_events';
/** NOTIFY payloads must stay under 8000 bytes; past this, `data` is dropped (listeners re-read anyway). */
const MAX_PAYLOAD = 7000;

type Handler = (wakeup: Wakeup | null) => void;

export class PgBroadcast implements Broadcast {
  private readonly origin = randomUUID();
  private readonly handlers = new Set<Handler>();
  private client: pg.Client | null = null;
  private connecting = false;
  private connectedBefore = false;
  private retryMs = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly clientConfig: pg.ClientConfig,
  ) {}

  send(wakeup: Wakeup): void {
    let payload = JSON.stringify({ o: this.origin, type: wakeup.type, agent_id: wakeup.agent_id, data: wakeup.data });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD)
      payload = JSON.stringify({ o: this.origin, type: wakeup.type, agent_id: wakeup.agent_id });
    const sent = this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]).then(
      () => undefined,
      () => undefined,
    );
    // A short-lived process (an `amtp admin` command) must not close the pool before its wake-ups leave.
    this.sending.add(sent);
    void sent.finally(() => this.sending.delete(sent));
  }

  listen(handler: Handler): () => void {
    this.handlers.add(handler);
    if (!this.client && !this.connecting && !this.timer) void this.connect();
    return () => this.handlers.delete(handler);
  }

  /** Resolves once the LISTEN connection is up (tests; startup ordering). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.client) {
      if (this.closed || Date.now() > deadline) throw new Error('LISTEN connection not established');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.sending);
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.connecting = true;
    const client = new pg.Client({ ...this.clientConfig, keepAlive: true, connectionTimeoutMillis: 10_000 });
    client.on('notification', (n) => this.receive(n.payload));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch {
      this.connecting = false;
      this.lost(client);
      return;
    }
    this.connecting = false;
    if (this.closed) return void client.end().catch(() => undefined);
    this.client = client;
    this.retryMs = 0;
    if (this.connectedBefore) this.emit(null);
    this.connectedBefore = true;
  }

  private lost(client: pg.Client): void {
    client.removeAllListeners();
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.client === client) this.client = null;
    if (this.closed || this.connecting || this.timer) return;
    this.retryMs = Math.min(Math.max(this.retryMs * 2, 100), 5_000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, this.retryMs).unref();
  }

  private receive(payload: string | undefined): void {
    let message: { o?: unknown; type?: unknown; agent_id?: unknown; data?: unknown };
    try {
      message = JSON.parse(payload ?? '') as typeof message;
    } catch {
      return;
    }
    if (message.o === this.origin || typeof message.type !== 'string' || typeof message.agent_id !== 'string') return;
    this.emit({ type: message.type, agent_id: message.agent_id, ...(message.data === undefined ? {} : { data: message.data }) });
  }

  private emit(wakeup: Wakeup | null): void {
    for (const handler of this.handlers) handler(wakeup);
  }
}
