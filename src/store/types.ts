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
  /** The agent's quiet hours (issue 18), or null when it has none. */
  quiet_hours?: QuietHoursRecord | null;
  created_at: string;
}

/** A daily window, in the agent's IANA time zone, during which mail is held (SPEC "Quiet hours"). */
export interface QuietHoursRecord {
  time_zone: string;
  /** Local wall-clock times, HH:MM; the window runs from start to end, across midnight when end <= start. */
  start: string;
  end: string;
  /** Agent ids whose mail is never held. */
  except: string[];
}

export type DeadlineState = 'pending' | 'met' | 'missed' | 'declined';

/** The recipient's "processed" acknowledgement of a message. */
export interface ProcessedRecord {
  outcome: 'done' | 'failed' | 'declined';
  note: string | null;
  at: string;
  /** Present when the recipient publishes a signing key: its signature over SPEC's processed-receipt bytes. */
  ed25519_signature: string | null;
  signed_at: string | null;
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

export interface PairConsent {
  aToB: GrantRecord | null;
  bToA: GrantRecord | null;
  aBlocksB: boolean;
  bBlocksA: boolean;
}

/** A limit on one scope of a grant: it lapses at `expires_at` or once `remaining` reaches 0 (null: no such limit). */
export interface GrantLimitRecord {
  granter_id: string;
  grantee_id: string;
  scope: string;
  expires_at: string | null;
  remaining: number | null;
}

/** An agent's guard settings: the leak guard, and the budget every pair without its own gets. */
export interface GuardSettingsRecord {
  agent_id: string;
  leak_guard: boolean;
  per_hour: number | null;
  per_day: number | null;
  updated_at: string;
}

/** What `sender_id` may send `recipient_id` per hour and per day (set by the recipient). */
export interface PairBudgetRecord {
  recipient_id: string;
  sender_id: string;
  per_hour: number | null;
  per_day: number | null;
  updated_at: string;
}

export type BudgetPeriod = 'hour' | 'day';

/** A thread the loop breaker stopped: no automatic message passes until a human clears it. */
export interface LoopRecord {
  thread_id: string;
  agent_a: string;
  agent_b: string;
  messages: number;
  flagged_at: string;
  /** Set when a human cleared it: the breaker counts again from then. */
  cleared_at: string | null;
}

export interface SendGuardState {
  limit: GrantLimitRecord | null;
  pair: { per_hour: number | null; per_day: number | null } | null;
  recipient_default: { per_hour: number | null; per_day: number | null };
  sender_leak_guard: boolean;
}

/** A message held for its sender's human to approve or discard (the leak guard). */
export interface HeldRecord {
  id: string;
  sender_id: string;
  recipient_id: string;
  thread_id: string;
  /** The send request as it arrived (with its signature), released as is on approval. */
  input: Record<string, unknown>;
  reasons: string[];
  created_at: string;
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
  /** 'human' when a person sent it through the CLI or the web UI (SPEC §17.3); null otherwise. */
  origin?: 'human' | null;
  /** Attention (issue 18): optional on insert (absent = none). */
  reply_by?: string | null;
  deadline_state?: DeadlineState | null;
  deadline_note?: string | null;
  deadline_at?: string | null;
  held_until?: string | null;
  processed?: ProcessedRecord | null;
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

export interface A2APeerRecord {
  agent_id: string;
  card_url: string;
  created_at: string;
}

/** An A2A task (an AMTP message) withdrawn by CancelTask before it was delivered. */
export interface A2ACanceledRecord {
  message_id: string;
  sender_id: string;
  recipient_id: string;
  thread_id: string;
  created_at: string;
  canceled_at: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/** What the outbox delivers. Federation and scheduled release will be further kinds of the same outbox. */
export type OutboxKind = 'webhook' | 'a2a' | 'deadline' | 'release' | 'federation';

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
  | {
      op: 'updateAgent';
      id: string;
      patch: Partial<
        Pick<
          AgentRecord,
          | 'api_key_hash'
          | 'display_name'
          | 'public_key'
          | 'encryption_key'
          | 'delivery_secret'
          | 'key_rotation'
          | 'keys_reset_at'
          | 'suspended_at'
          | 'quiet_hours'
        >
      >;
    }
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
  | {
      op: 'recordDelivery';
      id: string;
      status: DeliveryStatus;
      attempts: number;
      next_attempt_at: string;
      last_status: number | null;
      last_error: string | null;
      at: string;
    }
  | { op: 'redeliver'; agent_id: string; id: string; at: string }
  /** The agent row standing for an external A2A agent, and its card URL. */
  | { op: 'createA2APeer'; agent: AgentRecord; card_url: string }
  /** Removes a message not yet delivered and records its task as canceled; false if it was delivered (or gone). */
  | { op: 'withdrawMessage'; message: MessageRecord; at: string }
  /** Replaces every limit of the grant granter → grantee. */
  | { op: 'setGrantLimits'; granter_id: string; grantee_id: string; limits: GrantLimitRecord[] }
  /** Counts one message against a limited scope; fails with StoreError 'grant_lapsed' when it ran out or expired. Lapses it after its last message. */
  | { op: 'useGrant'; granter_id: string; grantee_id: string; scope: string; at: string }
  /** Removes an expired or used-up scope from the grant, with its audit entry (only once). */
  | { op: 'lapseGrant'; granter_id: string; grantee_id: string; scope: string; reason: 'expired' | 'used_up'; at: string }
  | { op: 'putGuardSettings'; settings: GuardSettingsRecord }
  /** Both limits null: removes the pair's own budget (the recipient's default applies again). */
  | { op: 'putPairBudget'; budget: PairBudgetRecord }
  /** Counts one message in each window; fails with StoreError 'budget_exceeded' (message: the period) when one is full. */
  | { op: 'countBudget'; recipient_id: string; sender_id: string; windows: { period: BudgetPeriod; window_start: string; limit: number }[] }
  | { op: 'flagLoop'; loop: LoopRecord }
  /** Marks the thread's flag cleared (the row stays: the breaker counts from then on). */
  | { op: 'clearLoop'; thread_id: string; at: string }
  | { op: 'holdMessage'; held: HeldRecord }
  | { op: 'deleteHeld'; id: string; sender_id: string }
  /** Queues a delivery about a message (a deadline, a release, an A2A request) at the message's place (its seq) in the queue; after its insert. */
  | {
      op: 'enqueue';
      delivery: {
        id: string;
        kind: OutboxKind;
        agent_id: string;
        queue: string;
        message_id: string;
        not_before: string;
        created_at: string;
      };
    }
  /** A reply by `recipient_id` in the thread meets every pending deadline it was given there (and cancels their outbox entries). */
  | { op: 'meetDeadlines'; thread_id: string; recipient_id: string; at: string }
  /** Moves a pending deadline to missed or declined and, only if it was still pending, appends `event` (so it fires once). */
  | {
      op: 'settleDeadline';
      message_id: string;
      state: 'missed' | 'declined';
      note: string | null;
      at: string;
      event: Omit<EventRecord, 'seq'>;
    }
  /** Records the processed receipt once; appends `event` only when it was recorded. */
  | { op: 'setProcessed'; message_id: string; recipient_id: string; processed: ProcessedRecord; event: Omit<EventRecord, 'seq'> }
  /** Federation (SPEC §19): installs a current server key unless one exists (first start, racing instances). */
  | { op: 'putServerKey'; key: ServerKeyRecord }
  /** Marks an agent row as the local mirror of a remote agent. */
  | { op: 'putRemoteAgent'; remote: RemoteAgentRecord }
  | { op: 'setRelay'; relay: RelayRecord };

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
  putServerKey: void;
  createA2APeer: void;
  withdrawMessage: boolean;
  setGrantLimits: void;
  /** The scope's remaining count after this message (null: not counted). */
  useGrant: number | null;
  lapseGrant: boolean;
  putGuardSettings: void;
  putPairBudget: void;
  countBudget: void;
  flagLoop: boolean;
  clearLoop: boolean;
  holdMessage: void;
  deleteHeld: boolean;
  enqueue: void;
  meetDeadlines: number;
  settleDeadline: boolean;
  setProcessed: boolean;
  putRemoteAgent: void;
  setRelay: void;
}

export type ResultOf<T extends WriteOp> = OpResults[T['op']];
export type ResultsOf<T extends readonly WriteOp[]> = { -readonly [K in keyof T]: T[K] extends WriteOp ? ResultOf<T[K]> : never };

/** Storage failures the domain core translates into API errors. */
export type StoreErrorKind = 'name_taken' | 'duplicate' | 'invite_unavailable' | 'grant_lapsed' | 'budget_exceeded' | 'unavailable';

export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    override readonly cause?: unknown,
  ) {
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
  /** Both grants and both blocks between two agents, in one read (the consent check of every send). */
  pairConsent(a: string, b: string): Promise<PairConsent>;
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
  /** Messages the agent sent whose deadline was missed or declined at or after `since`, newest first. */
  settledDeadlines(sender_id: string, since: string): Promise<MessageRecord[]>;

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

  /** The A2A bridge's reads. */
  a2aPeerByUrl(card_url: string): Promise<A2APeerRecord | null>;
  a2aPeer(agent_id: string): Promise<A2APeerRecord | null>;
  a2aCanceled(message_id: string): Promise<A2ACanceledRecord | null>;
  // guard rails (issue 19)
  grantLimits(granter_id: string, grantee_id: string): Promise<GrantLimitRecord[]>;
  grantLimitsInvolving(agent_id: string): Promise<GrantLimitRecord[]>;
  guardSettings(agent_id: string): Promise<GuardSettingsRecord | null>;
  pairBudget(recipient_id: string, sender_id: string): Promise<PairBudgetRecord | null>;
  pairBudgets(recipient_id: string): Promise<PairBudgetRecord[]>;
  budgetCount(recipient_id: string, sender_id: string, period: BudgetPeriod, window_start: string): Promise<number>;
  /**
   * What the guard rails need to know about one send, in one query: the limit on the scope granted to
   * the sender, the pair's budget, the recipient's default budget and whether the sender's leak guard is on.
   */
  sendGuard(sender_id: string, recipient_id: string, scope: string): Promise<SendGuardState>;
  /**
   * The thread's loop flag (active or cleared), and its automatic run: the messages created since
   * `since`, after the flag was last cleared and after the thread's last human-originated message.
   */
  threadGuard(thread_id: string, since: string): Promise<{ loop: LoopRecord | null; run: number }>;
  /** The thread's flag, active or cleared. */
  loop(thread_id: string): Promise<LoopRecord | null>;
  /** The active (not cleared) flags on the agent's threads. */
  loopsInvolving(agent_id: string): Promise<LoopRecord[]>;
  held(id: string): Promise<HeldRecord | null>;
  /** Oldest first. */
  heldBy(sender_id: string): Promise<HeldRecord[]>;
  /** Federation: the server's signing keys (the current one first), remote agents, relay statuses. */
  serverKeys(): Promise<ServerKeyRecord[]>;
  remoteAgent(agent_id: string): Promise<RemoteAgentRecord | null>;
  relays(message_ids: string[]): Promise<RelayRecord[]>;
}

export interface ServerKeyRecord {
  kid: string;
  public_key: string;
  secret_key: string;
  /** 1 for the key that signs now; null once retired (still published until it is dropped). */
  current: 1 | null;
  created_at: string;
  retired_at: string | null;
}

export interface RemoteAgentRecord {
  agent_id: string;
  address: string;
  domain: string;
  updated_at: string;
}

/** How far a message to a remote agent got: queued here, relayed (accepted by its server), or failed. */
export interface RelayRecord {
  message_id: string;
  status: 'queued' | 'relayed' | 'failed';
  reason: string | null;
  updated_at: string;
}
