/**
 * AmtpClient: the typed SDK for the AMTP REST API. Isomorphic (fetch only), so it runs in Node, in
 * the CLI and in the browser. Each method calls one operation of the table (src/protocol/operations.ts,
 * zod-free so the browser gets no schemas) under the operation's name. It implements the
 * transport-neutral MailboxApi, so the local MCP proxy serves the very same tools as the server's /mcp.
 */
import type { MailboxApi } from '../protocol/api.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { OperationOutput } from '../protocol/operation-schemas.js';
import { OPERATIONS, operationPath, type OperationName } from '../protocol/operations.js';
import type * as W from '../protocol/schemas.js';
import { STREAM_CLOSED, type StreamClosed } from '../protocol/stream.js';

export class AmtpApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network_error',
    message: string,
    readonly body?: unknown,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'AmtpApiError';
  }
}

/** The error an answer with status `status` and body `body` (an AMTP error object, or anything else) stands for. */
function apiError(status: number, body: unknown, retryAfter?: number): AmtpApiError {
  const error = (body as { error?: { code?: ErrorCode; message?: string } } | null | undefined)?.error;
  return new AmtpApiError(status, error?.code ?? 'internal_error', error?.message ?? `HTTP ${status}`, body, retryAfter);
}

export interface AmtpClientOptions {
  /** Server base URL, e.g. https://mail.example.org */
  baseUrl: string;
  apiKey?: string;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;

export class AmtpClient implements MailboxApi {
  readonly baseUrl: string;
  apiKey: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: AmtpClientOptions) {
    // The API's own paths start with /api: a base URL given as https://host/api means https://host.
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '').replace(/\/api$/, '');
    this.apiKey = opts.apiKey;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async request<T>(method: string, path: string, opts: { body?: unknown; query?: Query; signal?: AbortSignal } = {}): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      });
    } catch (error) {
      throw new AmtpApiError(0, 'network_error', `Cannot reach ${this.baseUrl}: ${(error as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw apiError(res.status, parsed, Number(res.headers.get('retry-after')) || undefined);
    return parsed as T;
  }

  /** Calls one operation of the table (src/protocol/operations.ts): its method and path come from there. */
  call<N extends OperationName>(
    name: N,
    opts: { params?: Record<string, string>; body?: unknown; query?: Query; signal?: AbortSignal } = {},
  ) {
    return this.request<OperationOutput<N>>(OPERATIONS[name].method, operationPath(name, opts.params), opts);
  }

  /** The server's discovery document (/.well-known/amtp): its limits and endpoints. */
  serverInfo() {
    return this.request<{ server: string; protocol_version: string; limits: { max_message_bytes: number; max_request_bytes: number } }>(
      'GET',
      '/.well-known/amtp',
    );
  }

  // identity
  register(input: W.RegisterInput) {
    return this.call('register', { body: input });
  }
  whoami() {
    return this.call('whoami');
  }
  rotateApiKey() {
    return this.call('rotateApiKey');
  }
  /** Publishes or rotates the public keys; the private keys stay with the caller. */
  setKeys(input: W.KeysInput) {
    return this.call('setKeys', { body: input });
  }
  rotateDeliverySecret() {
    return this.call('rotateDeliverySecret');
  }
  profile(agentRef: string) {
    return this.call('profile', { params: { id: agentRef } });
  }

  // capabilities
  setCapabilities(capabilities: W.Capability[]) {
    return this.call('setCapabilities', { body: { capabilities } });
  }
  capabilities(agentRef: string) {
    return this.call('capabilities', { params: { id: agentRef } });
  }
  taxonomy() {
    return this.call('taxonomy');
  }

  // consent
  requestContact(input: W.ContactRequestInput) {
    return this.call('requestContact', { body: input });
  }
  async listRequests(filter: { direction?: W.Direction; status?: W.RequestStatus } = {}) {
    return (await this.call('listRequests', { query: filter })).requests;
  }
  approve(requestId: string, scopes?: string[], limits?: W.GrantLimits) {
    return this.call('approve', { params: { id: requestId }, body: { ...(scopes ? { scopes } : {}), ...(limits ? { limits } : {}) } });
  }
  decline(requestId: string) {
    return this.call('decline', { params: { id: requestId } });
  }
  authorize(agentRef: string, scopes?: string[], limits?: W.GrantLimits) {
    return this.call('authorize', { body: { agent_id: agentRef, ...(scopes ? { scopes } : {}), ...(limits ? { limits } : {}) } });
  }
  revoke(agentRef: string) {
    return this.call('revoke', { params: { id: agentRef } });
  }
  block(agentRef: string) {
    return this.call('block', { body: { agent_id: agentRef } });
  }
  unblock(agentRef: string) {
    return this.call('unblock', { params: { id: agentRef } });
  }
  async peers() {
    return (await this.call('peers')).peers;
  }

  // messages
  send(input: Partial<W.SendInput> & { recipient_id: string }) {
    return this.call('send', { body: input });
  }
  inbox(query: Partial<W.InboxQuery> = {}, signal?: AbortSignal) {
    return this.call('inbox', { query, signal });
  }
  message(id: string) {
    return this.call('message', { params: { id } });
  }
  markRead(id: string) {
    return this.call('markRead', { params: { id } });
  }
  markAllRead(threadId?: string) {
    return this.call('markAllRead', { body: threadId ? { thread_id: threadId } : {} });
  }
  outbox(query: { limit?: number; cursor?: string } = {}) {
    return this.call('outbox', { query });
  }
  thread(threadId: string) {
    return this.call('thread', { params: { thread_id: threadId } });
  }

  // A2A bridge (outbound)
  /** Sends to an external A2A agent by its AgentCard URL; the answer arrives in the inbox, in the same thread. */
  sendA2A(input: W.A2ASendInput) {
    return this.call('sendA2A', { body: input });
  }
  async conversations() {
    return (await this.call('conversations')).conversations;
  }
  /** The messages exchanged with one peer, newest first; pass next_cursor to page back. */
  conversation(peerRef: string, query: { limit?: number; cursor?: string } = {}) {
    return this.call('conversation', { params: { id: peerRef }, query });
  }
  markConversationRead(peerRef: string) {
    return this.call('markConversationRead', { params: { id: peerRef } });
  }

  // attention (issue 18)
  digest() {
    return this.call('digest');
  }
  /** Acknowledges a received message as processed; SecureMailbox signs it when it holds a signing key. */
  ack(id: string, input: W.AckInput) {
    return this.call('ack', { params: { id }, body: input });
  }
  declineDeadline(id: string, reason: string) {
    return this.call('declineDeadline', { params: { id }, body: { reason } });
  }
  quietHours() {
    return this.call('quietHours');
  }
  setQuietHours(input: Partial<W.QuietHoursInput> & Pick<W.QuietHoursInput, 'time_zone' | 'start' | 'end'>) {
    return this.call('setQuietHours', { body: input });
  }
  deleteQuietHours() {
    return this.call('deleteQuietHours');
  }

  // webhooks
  setWebhook(input: W.WebhookInput) {
    return this.call('setWebhook', { body: input });
  }
  webhook() {
    return this.call('webhook');
  }
  deleteWebhook() {
    return this.call('deleteWebhook');
  }
  testWebhook() {
    return this.call('testWebhook');
  }
  webhookDeliveries(query: { status?: W.Delivery['status']; limit?: number } = {}) {
    return this.call('webhookDeliveries', { query });
  }
  /** Queues a delivered or dead-lettered webhook event again. */
  redeliver(deliveryId: string) {
    return this.call('redeliver', { params: { id: deliveryId } });
  }

  // audit
  audit(query: { limit?: number; cursor?: string } = {}) {
    return this.call('audit', { query });
  }
  verifyAudit() {
    return this.call('verifyAudit');
  }

  // guard rails (SPEC §17)
  guard() {
    return this.call('guard');
  }
  setGuard(input: W.GuardInput) {
    return this.call('setGuard', { body: input });
  }
  /** What one peer may send you per hour and per day; both null returns the pair to your default. */
  setBudget(peerRef: string, input: { per_hour?: number | null; per_day?: number | null }) {
    return this.call('setBudget', { params: { id: peerRef }, body: input });
  }
  clearLoop(threadId: string) {
    return this.call('clearLoop', { params: { thread_id: threadId } });
  }
  async held() {
    return (await this.call('held')).held;
  }
  approveHeld(id: string) {
    return this.call('approveHeld', { params: { id } });
  }
  discardHeld(id: string) {
    return this.call('discardHeld', { params: { id } });
  }

  /**
   * The live event stream (SSE over fetch, so the key travels as a header). Yields events; pass the
   * last seen `seq` to resume without gaps. `onOpen` runs once the server has accepted the stream:
   * from then on no event is missed, so a view that loaded before it should load once more.
   */
  async *stream(opts: { lastEventId?: number; signal?: AbortSignal; onOpen?: () => void } = {}): AsyncGenerator<W.StreamEvent> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (opts.lastEventId !== undefined) headers['last-event-id'] = String(opts.lastEventId);
    const res = await this.fetchImpl(`${this.baseUrl}/api/inbox/stream`, { headers, signal: opts.signal });
    if (!res.ok || !res.body) {
      throw apiError(res.status, await res.json().catch(() => undefined));
    }
    opts.onOpen?.();
    for await (const frame of sseFrames(res.body)) {
      if (frame.event === STREAM_CLOSED) {
        const closed = JSON.parse(frame.data) as StreamClosed;
        throw new AmtpApiError(401, closed.code, closed.message, { error: closed });
      }
      if (frame.data) yield JSON.parse(frame.data) as W.StreamEvent;
    }
  }
}

export interface SseFrame {
  id?: string;
  event?: string;
  data: string;
}

/** Parses a text/event-stream body into frames; leaving the loop closes the stream. */
export async function* sseFrames(body: ReadableStream<Uint8Array<ArrayBuffer>> | ReadableStream<Uint8Array>): AsyncGenerator<SseFrame> {
  const reader = (body as ReadableStream<BufferSource>).pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const frame: SseFrame = { data: '' };
        for (const line of buffer.slice(0, cut).split('\n')) {
          if (line.startsWith('id: ')) frame.id = line.slice(4);
          else if (line.startsWith('event: ')) frame.event = line.slice(7);
          else if (line.startsWith('data: ')) frame.data += (frame.data ? '\n' : '') + line.slice(6);
        }
        buffer = buffer.slice(cut + 2);
        yield frame;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
