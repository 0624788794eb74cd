/**
 * The storage contract. Every backend (SQLite, PostgreSQL) implements it and passes the same contract
 * test suite (src/store/contract.ts). Reads are plain queries; every change goes through `apply`, which
 * commits a list of write operations atomically — all or nothing — and durably before it resolves.
 */
import type { AuditAction, Capability, RequestStatus } from '../protocol/schemas.js';

export interface AgentRecord {
  id: string;
  name: string;
  display_name: string | null;
  public_key: string | null;
  encryption_key: string | null;
  api_key_hash: string;
  /** Keys the delivery MACs; stored in clear because the server must compute them. */
  delivery_secret: string;
  /** JSON of the last signed rotation statement, if any. */
  key_rotation: KeyRotationRecord | null;
  keys_reset_at: string | null;
  /** Set by the operator (`amtp admin suspend`): the agent's key is refused and nobody can message it. */
  suspended_at: string | null;
  created_at: string;
}

export interface KeyRotationRecord {
  old_public_key: string;
  new_public_key: string;
  new_encryption_key: string | null;
  rotated_at: string;
  signature: string;
}

export interface SealedRecord {
  alg: 'x25519-xchacha20poly1305';
  epk: string;
  nonce: string;
  ciphertext: string;
}

export interface GrantRecord {
  granter_id: string;
  grantee_id: string;
  scopes: string[];
  created_at: string;
  updated_at: string;
}

export interface BlockRecord {
  blocker_id: string;
  blocked_id: string;
  created_at: string;
}

export interface RequestRecord {
  id: string;
  from_id: string;
  to_id: string;
  note: string | null;
  scopes: string[];
  status: RequestStatus;
  created_at: string;
  decided_at: string | null;
}

export interface MessageRecord {
  /** Store-assigned, strictly increasing: the order of acceptance, used for cursors. */
  seq: number;
  id: string;
  thread_id: string;
  sender_id: string;
  recipient_id: string;
  subject: string | null;
  body: string | null;
  scope: string;
  intent: string | null;
  payload: unknown;
  reply_to_id: string | null;
  client_id: string | null;
  sealed: SealedRecord | null;
  sealed_for_sender: SealedRecord | null;
  ed25519_signature: string | null;
  sig_nonce: string | null;
  signed_at: string | null;
  created_at: string;
  delivered_at: string | null;
  read_at: string | null;
}

export interface CapabilitiesRecord {
  agent_id: string;
  capabilities: Capability[];
  updated_at: string;
}

export interface AuditDraft {
  agent_id: string;
  at: string;
  action: AuditAction;
  target_id: string | null;
  details: Record<string, unknown>;
}

export interface AuditRecord extends AuditDraft {
  seq: number;
  prev_hash: string;
  hash: string;
}

/** An entry of the server-level (operator) audit log: one hash chain for the whole server. */
export interface ServerAuditDraft {
  at: string;
  action: string;
  target_id: string | null;
  details: Record<string, unknown>;
}

export interface ServerAuditRecord extends ServerAuditDraft {
  seq: number;
  prev_hash: string;
  hash: string;
}

export interface InviteRecord {
  token_hash: string;
  created_at: string;
  expires_at: string | null;
  used_at: string | null;
  used_by: string | null;
  revoked_at: string | null;
}

/** Something that happened to an agent: replayed by the stream, pushed by the webhook outbox. */
export interface EventRecord {
  agent_id: string;
  /** Per agent, strictly increasing in commit order: the stream's event id. */
  seq: number;
  /** Globally unique; also the webhook-id of its delivery. */
  id: string;
  type: string;
  data: Record<string, unknown>;
  created_at: string;
}

export interface WebhookRecord {
  agent_id: string;
  url: string;
  secret: string;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/** What the outbox delivers. Federation and scheduled release will be further kinds of the same outbox. */
export type OutboxKind = 'webhook';

/** One entry of the durable outbox (table `outbox`), as the webhook rules see it. */
export interface DeliveryRecord {
  id: string;
  kind: OutboxKind;
  /** Whose it is; for a webhook also its queue (first attempts of one queue go out in order; a failed one is retried beside it). */
  agent_id: string;
  /** Its place in the queue: for a webhook, the event's seq. */
  event_seq: number;
  status: DeliveryStatus;
  attempts: number;
  /** Not attempted before this time (column `not_before`). */
  next_attempt_at: string;
  lease_until: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeliveryStats {
  pending: number;
  due: number;
  dead: number;
  oldest_pending_at: string | null;
}

export interface ConversationRow {
  peer_id: string;
  last_seq: number;
  unread_count: number;
  message_count: number;
}

export interface InboxOptions {
  unreadOnly: boolean;
  /** Exclusive bound in the direction of travel. */
  cursorSeq?: number;
  order: 'asc' | 'desc';
  limit: number;
}

/** Write operations, applied in order inside one transaction. */
export type WriteOp =
  | { op: 'createAgent'; agent: AgentRecord }
  | { op: 'updateAgent'; id: string; patch: Partial<Pick<AgentRecord, 'api_key_hash' | 'display_name' | 'public_key' | 'encryption_key' | 'delivery_secret' | 'key_rotation' | 'keys_reset_at' | 'suspended_at'>> }
  /** Removes the agent and everything that names it: messages both ways, grants, blocks, requests, logs, webhook. */
  | { op: 'deleteAgent'; id: string }
  /** Records a signature nonce; fails with StoreError 'duplicate' if the sender already used it. */
  | { op: 'useNonce'; sender_id: string; nonce: string; expires_at: string }
  | { op: 'pruneNonces'; before: string }
  | { op: 'putGrant'; grant: GrantRecord }
  | { op: 'deleteGrant'; granter_id: string; grantee_id: string }
  | { op: 'putBlock'; block: BlockRecord }
  | { op: 'deleteBlock'; blocker_id: string; blocked_id: string }
  | { op: 'createRequest'; request: RequestRecord }
  | { op: 'decideRequest'; id: string; status: 'approved' | 'declined'; at: string }
  | { op: 'insertMessage'; message: Omit<MessageRecord, 'seq'> }
  | { op: 'markDelivered'; recipient_id: string; ids: string[]; at: string }
  | { op: 'markRead'; recipient_id: string; ids?: string[]; thread_id?: string; at: string }
  | { op: 'setCapabilities'; record: CapabilitiesRecord }
  | { op: 'appendAudit'; entry: AuditDraft }
  | { op: 'createInvite'; token_hash: string; created_at: string; expires_at: string | null }
  | { op: 'consumeInvite'; token_hash: string; agent_id: string; at: string }
  /** Only an unused, unrevoked invite can be revoked. */
  | { op: 'revokeInvite'; token_hash: string; at: string }
  | { op: 'appendServerAudit'; entry: ServerAuditDraft }
  | { op: 'pruneMessages'; olderThan: string | null; keepPerMailbox: number | null }
  /** Appends to the agent's event log and, if its webhook is enabled for this type, enqueues a delivery. */
  | { op: 'appendEvent'; event: Omit<EventRecord, 'seq'> }
  | { op: 'pruneEvents'; olderThan: string }
  | { op: 'putWebhook'; webhook: WebhookRecord }
  /** Removes the webhook and its pending deliveries. */
  | { op: 'deleteWebhook'; agent_id: string }
  | { op: 'disableWebhook'; agent_id: string; reason: string; at: string }
  /** Leases up to `limit` due deliveries, at most one per agent and always that agent's oldest pending one. */
  /** With agent_id, only that agent's queue (the next head right after a delivery, in the same commit). */
  | { op: 'claimDeliveries'; now: string; lease_until: string; limit: number; agent_id?: string }
  | { op: 'recordDelivery'; id: string; status: DeliveryStatus; attempts: number; next_attempt_at: string; last_status: number | null; last_error: string | null; at: string }
  | { op: 'redeliver'; agent_id: string; id: string; at: string };

interface OpResults {
  createAgent: void;
  updateAgent: boolean;
  deleteAgent: boolean;
  useNonce: void;
  pruneNonces: number;
  putGrant: void;
  deleteGrant: boolean;
  putBlock: void;
  deleteBlock: boolean;
  createRequest: void;
  /** false when the request was no longer pending. */
  decideRequest: boolean;
  /** Fails with StoreError 'duplicate' when the sender already used this client_id. */
  insertMessage: MessageRecord;
  markDelivered: number;
  markRead: number;
  setCapabilities: void;
  appendAudit: AuditRecord;
  createInvite: void;
  consumeInvite: void;
  revokeInvite: boolean;
  appendServerAudit: ServerAuditRecord;
  pruneMessages: number;
  appendEvent: EventRecord;
  pruneEvents: number;
  putWebhook: void;
  deleteWebhook: boolean;
  disableWebhook: boolean;
  claimDeliveries: DeliveryRecord[];
  recordDelivery: void;
  redeliver: boolean;
}

export type ResultOf<T extends WriteOp> = OpResults[T['op']];
export type ResultsOf<T extends readonly WriteOp[]> = { -readonly [K in keyof T]: T[K] extends WriteOp ? ResultOf<T[K]> : never };

/** Storage failures the domain core translates into API errors. */
export type StoreErrorKind =
  | 'name_taken'
  | 'duplicate'
  | 'invite_unavailable'
  | 'unavailable';

export class StoreError extends Error {
  constructor(readonly kind: StoreErrorKind, message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'StoreError';
  }
}

/** A wake-up: tells listeners to re-read the store. Small; never the data itself. */
export interface Wakeup {
  type: string;
  agent_id: string;
  data?: unknown;
}

/** Carries wake-ups to the other server instances on the same database (PostgreSQL LISTEN/NOTIFY). */
export interface Broadcast {
  /** Best effort: an instance that misses one still re-reads when its waiters time out. */
  send(wakeup: Wakeup): void;
  /** Receives the other instances' wake-ups; `null` means the channel was interrupted and some may be lost. */
  listen(onWakeup: (wakeup: Wakeup | null) => void): () => void;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Absent when one process owns the store (SQLite): in-memory wake-ups reach every waiter. */
  readonly broadcast?: Broadcast;
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Keeps the planner's statistics fresh (SQLite: PRAGMA optimize; PostgreSQL: autovacuum does, a no-op). */
  optimize(): Promise<void>;
  apply<const T extends readonly WriteOp[]>(ops: T): Promise<ResultsOf<T>>;

  agentById(id: string): Promise<AgentRecord | null>;
  agentByName(name: string): Promise<AgentRecord | null>;
  agentByKeyHash(hash: string): Promise<AgentRecord | null>;
  agentsByIds(ids: string[]): Promise<AgentRecord[]>;

  grant(granter_id: string, grantee_id: string): Promise<GrantRecord | null>;
  grantsInvolving(agent_id: string): Promise<GrantRecord[]>;
  isBlocked(blocker_id: string, blocked_id: string): Promise<boolean>;
  blocksInvolving(agent_id: string): Promise<BlockRecord[]>;

  request(id: string): Promise<RequestRecord | null>;
  pendingRequest(from_id: string, to_id: string): Promise<RequestRecord | null>;
  requests(agent_id: string, filter: { direction?: 'incoming' | 'outgoing'; status?: RequestStatus }): Promise<RequestRecord[]>;
  countPendingOutgoing(agent_id: string): Promise<number>;

  message(id: string): Promise<MessageRecord | null>;
  messageByClientId(sender_id: string, client_id: string): Promise<MessageRecord | null>;
  inbox(recipient_id: string, opts: InboxOptions): Promise<MessageRecord[]>;
  unreadCount(recipient_id: string): Promise<number>;
  outbox(sender_id: string, opts: { cursorSeq?: number; limit: number }): Promise<MessageRecord[]>;
  thread(thread_id: string): Promise<MessageRecord[]>;
  conversations(agent_id: string): Promise<ConversationRow[]>;
  /** The messages between two agents, either direction, newest first, before cursorSeq. */
  conversation(agent_id: string, peer_id: string, opts: { cursorSeq?: number; limit: number }): Promise<MessageRecord[]>;
  messagesBySeq(seqs: number[]): Promise<MessageRecord[]>;

  capabilities(agent_id: string): Promise<CapabilitiesRecord | null>;

  events(agent_id: string, opts: { afterSeq: number; limit: number }): Promise<EventRecord[]>;
  lastEventSeq(agent_id: string): Promise<number>;
  webhook(agent_id: string): Promise<WebhookRecord | null>;
  /** Newest first. */
  deliveries(agent_id: string, opts: { status?: DeliveryStatus; limit: number }): Promise<DeliveryRecord[]>;
  pendingDeliveries(agent_id: string): Promise<number>;
  /** Whether the agent's webhook accepted an event later than `event_seq` (a delivery with a higher position). */
  webhookDeliveredAfter(agent_id: string, event_seq: number): Promise<boolean>;
  /** The whole outbox, for /metrics: queued, due now (and not leased), dead-lettered, and the oldest queued one's creation. */
  deliveryStats(now: string): Promise<DeliveryStats>;

  audit(agent_id: string, opts: { afterSeq?: number; limit: number }): Promise<AuditRecord[]>;
  auditAll(agent_id: string): Promise<AuditRecord[]>;

  /** Operator reads. Agents in registration order. */
  listAgents(opts: { offset: number; limit: number }): Promise<AgentRecord[]>;
  /** Newest first. */
  invites(): Promise<InviteRecord[]>;
  serverAuditAll(): Promise<ServerAuditRecord[]>;
}
