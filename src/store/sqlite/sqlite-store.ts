/**
 * SQLite backend (better-sqlite3, WAL). Reads run on the event loop's own connection; writes go to a
 * writer thread with a connection of its own (src/store/sqlite/writer-thread.ts), so a commit and its
 * fsync run on the other core. Writes are group-committed: every `apply` issued in the same event-loop
 * turn shares one transaction, each in its own savepoint, and nobody is answered before the fsync.
 * An in-memory database (tests) cannot be shared between threads: it writes inline.
 */
import { closeSync, openSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import {
  StoreError,
  type AgentRecord,
  type BlockRecord,
  type CapabilitiesRecord,
  type ConversationRow,
  type DeliveryRecord,
  type EventRecord,
  type WebhookRecord,
  type GrantRecord,
  type InboxOptions,
  type InviteRecord,
  type DeliveryStats,
  DELIVERY_STATS_SQL,
  type ServerAuditRecord,
  type MessageRecord,
  type RequestRecord,
  type ResultsOf,
  type Store,
  type WriteOp,
} from '../types.js';
import { openConnection, statementCache, type Durability } from './connection.js';
import { assertSchemaKnown } from '../migration.js';
import { sqliteMigrations } from './migrations.js';
import { fromWireError, toAgent, toAudit, toEvent, toGrant, toMessage, toRequest, translateError, type Row } from './rows.js';
import type { FromWriter, ToWriter } from './writer-thread.js';
import { SqliteWriter } from './writer.js';

export type { Durability } from './connection.js';

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** Default full; see Durability. */
  durability?: Durability;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The worker's entry: writer-thread.js when built; from source (tests, benchmarks) the .ts through tsx. */
const WRITER_ENTRY = new URL(`./writer-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

function startWriter(workerData: { path: string; durability: Durability }): Worker {
  if (!WRITER_ENTRY.pathname.endsWith('.ts')) return new Worker(WRITER_ENTRY, { workerData });
  // Worker threads do not inherit tsx's loader hooks: register them in the thread first.
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WRITER_ENTRY.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  private pending: { ops: readonly WriteOp[]; waiter: Waiter }[] = [];
  private flushScheduled = false;
  private readonly inline: SqliteWriter | null;
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 0;
  private drained?: () => void;

  private readonly stmt: (sql: string) => Database.Statement;

  constructor(private readonly opts: SqliteStoreOptions) {
    this.db = openConnection(opts.path, opts.durability);
    this.stmt = statementCache(this.db);
    this.inline = this.db.memory ? new SqliteWriter(this.db) : null;
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const applied = new Set(this.db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    assertSchemaKnown(applied, sqliteMigrations);
    for (const m of sqliteMigrations) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      }).immediate();
    }
  }

  async close(): Promise<void> {
    if (this.pending.length) this.flush();
    if (this.worker) {
      const worker = this.worker;
      if (this.waiting.size) await new Promise<void>((done) => (this.drained = done));
      const exited = new Promise((done) => worker.once('exit', done));
      worker.postMessage({ type: 'close' } satisfies ToWriter);
      await exited;
    }
    if (this.db.open) this.db.close();
  }

  apply<const T extends readonly WriteOp[]>(ops: T): Promise<ResultsOf<T>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, waiter: { resolve: resolve as (v: unknown) => void, reject } });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs a pragma on every connection (the writer's answer is returned), e.g. max_page_count. */
  async pragma(statement: string): Promise<unknown> {
    const local = this.db.pragma(statement, { simple: true });
    if (this.inline) return local;
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      this.waiting.set(id, { resolve, reject });
      this.writer().postMessage({ type: 'pragma', id, statement } satisfies ToWriter);
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (this.inline) return this.commitInline(this.inline, batch);
    const worker = this.writer();
    for (const { ops, waiter } of batch) {
      const id = ++this.nextId;
      try {
        worker.postMessage({ type: 'apply', id, ops } satisfies ToWriter);
        this.waiting.set(id, waiter);
      } catch (error) {
        // Ops that cannot be copied to the writer (a value the input rules should have refused)
        // fail their own caller only; this runs in a setImmediate, where a throw would end the process.
        waiter.reject(error);
      }
    }
  }

  private commitInline(writer: SqliteWriter, batch: { ops: readonly WriteOp[]; waiter: Waiter }[]): void {
    const outcomes = writer.commitSettled(batch.map((b) => b.ops));
    batch.forEach(({ waiter }, i) => {
      const o = outcomes[i]!;
      if (o.ok) waiter.resolve(o.value);
      else waiter.reject(translateError(o.error));
    });
  }

  private writer(): Worker {
    if (this.worker) return this.worker;
    const worker = startWriter({ path: this.opts.path, durability: this.opts.durability ?? 'full' });
    worker.on('message', (replies: FromWriter[]) => {
      for (const reply of replies) {
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        if (reply.ok) waiter?.resolve(reply.value);
        else waiter?.reject(fromWireError(reply.error));
      }
      if (this.waiting.size === 0) this.drained?.();
    });
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      // A writer that died (not closed) fails what it held; the next write starts a new one.
      if (this.worker === worker) this.worker = null;
      const lost = new StoreError('unavailable', 'the SQLite writer thread stopped');
      for (const waiter of this.waiting.values()) waiter.reject(lost);
      this.waiting.clear();
      this.drained?.();
    });
    return (this.worker = worker);
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────────────
  async agentById(id: string) {
    return toAgent(this.stmt('SELECT * FROM agents WHERE id = ?').get(id) as Row | undefined);
  }
  async agentByName(name: string) {
    return toAgent(this.stmt('SELECT * FROM agents WHERE name = ?').get(name) as Row | undefined);
  }
  async agentByKeyHash(hash: string) {
    return toAgent(this.stmt('SELECT * FROM agents WHERE api_key_hash = ?').get(hash) as Row | undefined);
  }
  async agentsByIds(ids: string[]) {
    if (ids.length === 0) return [];
    return (this.stmt('SELECT * FROM agents WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as Row[]).map((r) => toAgent(r)!);
  }

  async grant(granter_id: string, grantee_id: string) {
    const row = this.stmt('SELECT * FROM grants WHERE granter_id = ? AND grantee_id = ?').get(granter_id, grantee_id) as Row | undefined;
    return row ? toGrant(row) : null;
  }
  async grantsInvolving(agent_id: string) {
    return (this.stmt('SELECT * FROM grants WHERE granter_id = ? OR grantee_id = ?').all(agent_id, agent_id) as Row[]).map(toGrant);
  }
  async isBlocked(blocker_id: string, blocked_id: string) {
    return this.stmt('SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?').get(blocker_id, blocked_id) !== undefined;
  }
  async blocksInvolving(agent_id: string) {
    return this.stmt('SELECT * FROM blocks WHERE blocker_id = ? OR blocked_id = ?').all(agent_id, agent_id) as BlockRecord[];
  }

  async request(id: string) {
    const row = this.stmt('SELECT * FROM contact_requests WHERE id = ?').get(id) as Row | undefined;
    return row ? toRequest(row) : null;
  }
  async pendingRequest(from_id: string, to_id: string) {
    const row = this.stmt("SELECT * FROM contact_requests WHERE from_id = ? AND to_id = ? AND status = 'pending'").get(from_id, to_id) as
      | Row
      | undefined;
    return row ? toRequest(row) : null;
  }
  async requests(agent_id: string, filter: { direction?: 'incoming' | 'outgoing'; status?: RequestRecord['status'] }) {
    const who =
      filter.direction === 'incoming' ? 'to_id = ?' : filter.direction === 'outgoing' ? 'from_id = ?' : '(to_id = ? OR from_id = ?)';
    const args: unknown[] = filter.direction ? [agent_id] : [agent_id, agent_id];
    let sql = `SELECT * FROM contact_requests WHERE ${who}`;
    if (filter.status) {
      sql += ' AND status = ?';
      args.push(filter.status);
    }
    sql += ' ORDER BY created_at DESC, id LIMIT 500';
    return (this.stmt(sql).all(...args) as Row[]).map(toRequest);
  }
  async countPendingOutgoing(agent_id: string) {
    return this.stmt("SELECT COUNT(*) FROM contact_requests WHERE from_id = ? AND status = 'pending'").pluck().get(agent_id) as number;
  }

  async message(id: string) {
    const row = this.stmt('SELECT * FROM messages WHERE id = ?').get(id) as Row | undefined;
    return row ? toMessage(row) : null;
  }
  async messageByClientId(sender_id: string, client_id: string) {
    const row = this.stmt('SELECT * FROM messages WHERE sender_id = ? AND client_id = ?').get(sender_id, client_id) as Row | undefined;
    return row ? toMessage(row) : null;
  }
  async inbox(recipient_id: string, o: InboxOptions) {
    const unread = o.unreadOnly ? ' AND read_at IS NULL' : '';
    const cursor = o.cursorSeq === undefined ? '' : o.order === 'asc' ? ' AND seq > ?' : ' AND seq < ?';
    const sql = `SELECT * FROM messages WHERE recipient_id = ?${unread}${cursor} ORDER BY seq ${o.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
    const args = o.cursorSeq === undefined ? [recipient_id, o.limit] : [recipient_id, o.cursorSeq, o.limit];
    return (this.stmt(sql).all(...args) as Row[]).map(toMessage);
  }
  async unreadCount(recipient_id: string) {
    return this.stmt('SELECT COUNT(*) FROM messages WHERE recipient_id = ? AND read_at IS NULL').pluck().get(recipient_id) as number;
  }
  async outbox(sender_id: string, o: { cursorSeq?: number; limit: number }) {
    const rows =
      o.cursorSeq === undefined
        ? this.stmt('SELECT * FROM messages WHERE sender_id = ? ORDER BY seq DESC LIMIT ?').all(sender_id, o.limit)
        : this.stmt('SELECT * FROM messages WHERE sender_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?').all(sender_id, o.cursorSeq, o.limit);
    return (rows as Row[]).map(toMessage);
  }
  async thread(thread_id: string) {
    return (this.stmt('SELECT * FROM messages WHERE thread_id = ? ORDER BY seq ASC LIMIT 1000').all(thread_id) as Row[]).map(toMessage);
  }
  async conversations(agent_id: string): Promise<ConversationRow[]> {
    return this.stmt(
      `SELECT peer_id, MAX(seq) AS last_seq, SUM(unread) AS unread_count, COUNT(*) AS message_count FROM (
         SELECT recipient_id AS peer_id, seq, 0 AS unread FROM messages WHERE sender_id = ?
         UNION ALL
         SELECT sender_id AS peer_id, seq, CASE WHEN read_at IS NULL THEN 1 ELSE 0 END FROM messages WHERE recipient_id = ?
       ) GROUP BY peer_id ORDER BY last_seq DESC LIMIT 500`,
    ).all(agent_id, agent_id) as ConversationRow[];
  }
  async conversation(agent_id: string, peer_id: string, o: { cursorSeq?: number; limit: number }) {
    // Two index ranges (outbox and inbox), merged: no OR across indexes.
    const before = o.cursorSeq ?? Number.MAX_SAFE_INTEGER;
    const rows = this.stmt(
      `SELECT * FROM (SELECT * FROM messages WHERE sender_id = ? AND recipient_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?)
       UNION ALL SELECT * FROM (SELECT * FROM messages WHERE sender_id = ? AND recipient_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?)
       ORDER BY seq DESC LIMIT ?`,
    ).all(agent_id, peer_id, before, o.limit, peer_id, agent_id, before, o.limit, o.limit);
    return (rows as Row[]).map(toMessage);
  }
  async messagesBySeq(seqs: number[]) {
    if (seqs.length === 0) return [];
    return (this.stmt('SELECT * FROM messages WHERE seq IN (SELECT value FROM json_each(?))').all(JSON.stringify(seqs)) as Row[]).map(toMessage);
  }

  async capabilities(agent_id: string): Promise<CapabilitiesRecord | null> {
    const row = this.stmt('SELECT * FROM capabilities WHERE agent_id = ?').get(agent_id) as Row | undefined;
    return row ? { agent_id, capabilities: JSON.parse(row.capabilities as string), updated_at: row.updated_at as string } : null;
  }

  async events(agent_id: string, o: { afterSeq: number; limit: number }) {
    return (this.stmt('SELECT * FROM events WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(agent_id, o.afterSeq, o.limit) as Row[]).map(
      toEvent,
    );
  }
  async lastEventSeq(agent_id: string) {
    return (this.stmt('SELECT MAX(seq) FROM events WHERE agent_id = ?').pluck().get(agent_id) as number | null) ?? 0;
  }
  async webhook(agent_id: string): Promise<WebhookRecord | null> {
    const row = this.stmt('SELECT * FROM webhooks WHERE agent_id = ?').get(agent_id) as Row | undefined;
    return row ? { ...(row as unknown as WebhookRecord), events: JSON.parse(row.events as string), enabled: row.enabled === 1 } : null;
  }
  async deliveries(agent_id: string, o: { status?: DeliveryRecord['status']; limit: number }) {
    const rows = o.status
      ? this.stmt('SELECT * FROM webhook_deliveries WHERE agent_id = ? AND status = ? ORDER BY event_seq DESC LIMIT ?').all(agent_id, o.status, o.limit)
      : this.stmt('SELECT * FROM webhook_deliveries WHERE agent_id = ? ORDER BY event_seq DESC LIMIT ?').all(agent_id, o.limit);
    return rows as DeliveryRecord[];
  }
  async pendingDeliveries(agent_id: string) {
    return this.stmt("SELECT COUNT(*) FROM webhook_deliveries WHERE agent_id = ? AND status = 'pending'").pluck().get(agent_id) as number;
  }

  async audit(agent_id: string, o: { afterSeq?: number; limit: number }) {
    return (
      this.stmt('SELECT * FROM audit_log WHERE agent_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?').all(agent_id, o.afterSeq ?? 0, o.limit) as Row[]
    ).map(toAudit);
  }
  async auditAll(agent_id: string) {
    return (this.stmt('SELECT * FROM audit_log WHERE agent_id = ? ORDER BY seq ASC').all(agent_id) as Row[]).map(toAudit);
  }

  async deliveryStats(now: string): Promise<DeliveryStats> {
    return this.stmt(DELIVERY_STATS_SQL.replace(/\$1/g, '@now')).get({ now }) as DeliveryStats;
  }
  async listAgents(o: { offset: number; limit: number }) {
    return (this.stmt('SELECT * FROM agents ORDER BY created_at, id LIMIT ? OFFSET ?').all(o.limit, o.offset) as Row[]).map((r) => toAgent(r)!);
  }
  async invites() {
    return this.stmt('SELECT * FROM invites ORDER BY created_at DESC, token_hash').all() as InviteRecord[];
  }
  async serverAuditAll() {
    return (this.stmt('SELECT * FROM server_audit ORDER BY seq ASC').all() as Row[]).map((r) => ({ ...(r as unknown as ServerAuditRecord), details: JSON.parse(r.details as string) }));
  }

  /**
   * Consistent online copy of the database file (SQLite's backup API) into a new file readable by its
   * owner only (it holds delivery and webhook secrets): created 0600 before SQLite writes to it.
   */
  async backup(destination: string): Promise<void> {
    closeSync(openSync(destination, 'wx', 0o600));
    await this.db.backup(destination);
  }
}
