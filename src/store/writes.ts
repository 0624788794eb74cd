/**
 * Every write operation, written once for both backends. An operation is a generator that yields
 * the queries it needs and receives their answers: the SQLite writer drives it synchronously inside
 * its savepoint, PostgreSQL asynchronously inside its transaction (src/store/drive.ts).
 */
import { AUDIT_GENESIS, auditHash, chainServerAudit } from '../protocol/audit-chain.js';
import {
  StoreError,
  type AuditDraft,
  type AuditRecord,
  type DeliveryRecord,
  type EventRecord,
  type MessageRecord,
  type OutboxKind,
  type ServerAuditDraft,
  type ServerAuditRecord,
  type WriteOp,
} from './types.js';
import { json, type Dialect } from './dialect.js';
import {
  claimDueSql,
  claimRetriesSql,
  enqueueOnEventSql,
  hasQueueTable,
  leaseHeadsSql,
  OUTBOX_KINDS,
  queueHeadsSql,
  stepsAside,
} from './outbox.js';
import type { Row } from './rows.js';

/** One query; with `rows` its answer is the rows (SELECT, RETURNING), else the number of rows changed. */
export interface Query {
  sql: string;
  params: unknown[];
  rows: boolean;
}
export type Steps<T> = Generator<Query, T, unknown>;

function* run(sql: string, ...params: unknown[]): Steps<number> {
  return (yield { sql, params, rows: false }) as number;
}
function* all(sql: string, ...params: unknown[]): Steps<Row[]> {
  return (yield { sql, params, rows: true }) as Row[];
}

/** Everything that names an agent, children first; `agents` itself is deleted last. Each `?` is the agent's id. */
const DELETE_AGENT_TABLES: readonly [table: string, where: string][] = [
  ['held_messages', 'sender_id = ? OR recipient_id = ?'],
  ['thread_loops', 'agent_a = ? OR agent_b = ?'],
  ['budget_counters', 'recipient_id = ? OR sender_id = ?'],
  ['pair_budgets', 'recipient_id = ? OR sender_id = ?'],
  ['guard_settings', 'agent_id = ?'],
  ['grant_limits', 'granter_id = ? OR grantee_id = ?'],
  ['outbox', 'agent_id = ?'],
  ['a2a_peers', 'agent_id = ?'],
  ['a2a_canceled', 'sender_id = ? OR recipient_id = ?'],
  ['events', 'agent_id = ?'],
  ['webhooks', 'agent_id = ?'],
  ['audit_log', 'agent_id = ?'],
  ['capabilities', 'agent_id = ?'],
  ['messages', 'sender_id = ? OR recipient_id = ?'],
  ['contact_requests', 'from_id = ? OR to_id = ?'],
  ['blocks', 'blocker_id = ? OR blocked_id = ?'],
  ['grants', 'granter_id = ? OR grantee_id = ?'],
  ['sig_nonces', 'sender_id = ?'],
  ['remote_agents', 'agent_id = ?'],
];

/**
 * Retention deletes at most this many rows of a table per operation, oldest first: the ordered,
 * limited shape walks the age index whatever the planner's statistics, and no sweep holds the writer
 * for long. The core repeats the operation until it removes nothing.
 */
export const PRUNE_BATCH = 1_000;

const AGENT_PATCHABLE = new Set([
  'api_key_hash',
  'display_name',
  'public_key',
  'encryption_key',
  'delivery_secret',
  'key_rotation',
  'keys_reset_at',
  'suspended_at',
  'quiet_hours',
]);
const AGENT_JSON = new Set(['key_rotation', 'quiet_hours']);

export function* writeOp(d: Dialect, op: WriteOp): Steps<unknown> {
  switch (op.op) {
    case 'createAgent': {
      const a = op.agent;
      yield* run(
        `INSERT INTO agents (id, name, display_name, public_key, encryption_key, api_key_hash, delivery_secret, key_rotation, keys_reset_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        a.id,
        a.name,
        a.display_name,
        a.public_key,
        a.encryption_key,
        a.api_key_hash,
        a.delivery_secret,
        json(a.key_rotation),
        a.keys_reset_at,
        a.created_at,
      );
      return undefined;
    }
    case 'updateAgent': {
      const entries = Object.entries(op.patch)
        .filter(([k, v]) => v !== undefined && AGENT_PATCHABLE.has(k))
        .map(([k, v]) => [k, AGENT_JSON.has(k) ? json(v) : v] as const);
      if (entries.length === 0) return false;
      const sets = entries.map(([k]) => `${k} = ?`).join(', ');
      return (yield* run(`UPDATE agents SET ${sets} WHERE id = ?`, ...entries.map(([, v]) => v), op.id)) > 0;
    }
    case 'deleteAgent':
      for (const [table, where] of DELETE_AGENT_TABLES) {
        yield* run(
          `DELETE FROM ${table} WHERE ${where}`,
          ...where
            .split('?')
            .slice(1)
            .map(() => op.id),
        );
      }
      return (yield* run('DELETE FROM agents WHERE id = ?', op.id)) > 0;
    case 'putServerKey': {
      const k = op.key;
      yield* run(
        'INSERT INTO server_keys (kid, public_key, secret_key, current, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        k.kid,
        k.public_key,
        k.secret_key,
        k.current,
        k.created_at,
        k.retired_at,
      );
      return undefined;
    }
    case 'putRemoteAgent': {
      const r = op.remote;
      yield* run(
        'INSERT INTO remote_agents (agent_id, address, domain, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET updated_at = excluded.updated_at',
        r.agent_id,
        r.address,
        r.domain,
        r.updated_at,
      );
      return undefined;
    }
    case 'setRelay': {
      const r = op.relay;
      yield* run(
        'INSERT INTO relays (message_id, status, reason, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at',
        r.message_id,
        r.status,
        r.reason,
        r.updated_at,
      );
      return undefined;
    }
    case 'useNonce':
      yield* run('INSERT INTO sig_nonces (sender_id, nonce, expires_at) VALUES (?, ?, ?)', op.sender_id, op.nonce, op.expires_at);
      return undefined;
    case 'pruneNonces':
      return yield* run('DELETE FROM sig_nonces WHERE expires_at < ?', op.before);
    case 'putGrant': {
      const g = op.grant;
      yield* run(
        `INSERT INTO grants (granter_id, grantee_id, scopes, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (granter_id, grantee_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
        g.granter_id,
        g.grantee_id,
        json(g.scopes),
        g.created_at,
        g.updated_at,
      );
      return undefined;
    }
    case 'deleteGrant':
      return (yield* run('DELETE FROM grants WHERE granter_id = ? AND grantee_id = ?', op.granter_id, op.grantee_id)) > 0;
    case 'putBlock':
      yield* run(
        'INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        op.block.blocker_id,
        op.block.blocked_id,
        op.block.created_at,
      );
      return undefined;
    case 'deleteBlock':
      return (yield* run('DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?', op.blocker_id, op.blocked_id)) > 0;
    case 'createRequest': {
      const r = op.request;
      yield* run(
        'INSERT INTO contact_requests (id, from_id, to_id, note, scopes, status, created_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        r.id,
        r.from_id,
        r.to_id,
        r.note,
        json(r.scopes),
        r.status,
        r.created_at,
        r.decided_at,
      );
      return undefined;
    }
    case 'decideRequest':
      return (
        (yield* run(
          "UPDATE contact_requests SET status = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
          op.status,
          op.at,
          op.id,
        )) > 0
      );
    case 'insertMessage':
      return yield* insertMessage(op.message);
    case 'markDelivered':
      if (op.ids.length === 0) return 0;
      return yield* run(
        `UPDATE messages SET delivered_at = ? WHERE ${bySeqOfIds(d)} AND recipient_id = ? AND delivered_at IS NULL`,
        op.at,
        d.list(op.ids),
        op.recipient_id,
      );
    case 'markRead': {
      let sql = `UPDATE messages SET read_at = ?, delivered_at = COALESCE(delivered_at, ?) WHERE ${op.ids ? `${bySeqOfIds(d)} AND ` : ''}recipient_id = ? AND read_at IS NULL`;
      const params: unknown[] = op.ids ? [op.at, op.at, d.list(op.ids), op.recipient_id] : [op.at, op.at, op.recipient_id];
      if (op.thread_id) {
        sql += ' AND thread_id = ?';
        params.push(op.thread_id);
      }
      return yield* run(sql, ...params);
    }
    case 'setCapabilities':
      yield* run(
        `INSERT INTO capabilities (agent_id, capabilities, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (agent_id) DO UPDATE SET capabilities = excluded.capabilities, updated_at = excluded.updated_at`,
        op.record.agent_id,
        json(op.record.capabilities),
        op.record.updated_at,
      );
      return undefined;
    case 'appendAudit':
      return yield* appendAudit(op.entry);
    case 'createInvite':
      yield* run('INSERT INTO invites (token_hash, created_at, expires_at) VALUES (?, ?, ?)', op.token_hash, op.created_at, op.expires_at);
      return undefined;
    case 'consumeInvite': {
      const changed = yield* run(
        'UPDATE invites SET used_at = ?, used_by = ? WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)',
        op.at,
        op.agent_id,
        op.token_hash,
        op.at,
      );
      if (changed === 0) throw new StoreError('invite_unavailable', 'invite token unknown, used, revoked or expired');
      return undefined;
    }
    case 'revokeInvite':
      return (
        (yield* run(
          'UPDATE invites SET revoked_at = ? WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL',
          op.at,
          op.token_hash,
        )) > 0
      );
    case 'appendServerAudit':
      return yield* appendServerAudit(op.entry);
    case 'pruneMessages': {
      let removed = 0;
      if (op.olderThan) {
        removed += yield* run(
          `DELETE FROM messages WHERE seq IN (SELECT seq FROM messages WHERE created_at < ? ORDER BY created_at LIMIT ${PRUNE_BATCH})`,
          op.olderThan,
        );
      }
      // The per-mailbox cap once the age batches are done (this one removed less than a batch).
      if (op.keepPerMailbox && removed < PRUNE_BATCH) {
        // Mailbox by mailbox, so no plan can read every message: one index probe per mailbox finds the
        // oldest message to keep, and only mailboxes over the cap delete their older messages.
        const cuts = yield* all(
          'SELECT a.id, (SELECT k.seq FROM messages k WHERE k.recipient_id = a.id ORDER BY k.seq DESC LIMIT 1 OFFSET ?) AS cut FROM agents a',
          op.keepPerMailbox - 1,
        );
        for (const { id, cut } of cuts)
          if (cut !== null) removed += yield* run('DELETE FROM messages WHERE recipient_id = ? AND seq < ?', id, cut);
      }
      return removed;
    }
    case 'appendEvent':
      return yield* appendEvent(d, op.event);
    case 'pruneEvents':
      yield* run(
        `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status <> 'pending' AND updated_at < ? ORDER BY updated_at LIMIT ${PRUNE_BATCH})`,
        op.olderThan,
      );
      return yield* run(
        `DELETE FROM events WHERE id IN (SELECT e.id FROM events e WHERE e.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM outbox d WHERE d.id = e.id AND d.status = 'pending') ORDER BY e.created_at LIMIT ${PRUNE_BATCH})`,
        op.olderThan,
      );
    case 'putWebhook': {
      const w = op.webhook;
      yield* run(
        `INSERT INTO webhooks (agent_id, url, secret, events, enabled, disabled_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (agent_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events,
           enabled = excluded.enabled, disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at`,
        w.agent_id,
        w.url,
        w.secret,
        json(w.events),
        d.bool(w.enabled),
        w.disabled_reason,
        w.created_at,
        w.updated_at,
      );
      return undefined;
    }
    case 'deleteWebhook':
      yield* run("DELETE FROM outbox WHERE kind = 'webhook' AND agent_id = ? AND status = 'pending'", op.agent_id);
      return (yield* run('DELETE FROM webhooks WHERE agent_id = ?', op.agent_id)) > 0;
    case 'disableWebhook':
      return (
        (yield* run(
          'UPDATE webhooks SET enabled = FALSE, disabled_reason = ?, updated_at = ? WHERE agent_id = ? AND enabled',
          op.reason,
          op.at,
          op.agent_id,
        )) > 0
      );
    case 'claimDeliveries': {
      const claimed: DeliveryRecord[] = [];
      for (const kind of OUTBOX_KINDS) {
        if (claimed.length >= op.limit) break;
        const agent = op.agent_id === undefined ? [] : [op.agent_id];
        const rows = hasQueueTable(kind)
          ? yield* leaseQueueHeads(d, kind, agent, op.lease_until, op.now, op.limit - claimed.length)
          : yield* all(claimDueSql(d, kind, agent.length > 0), op.lease_until, ...agent, op.now, op.now, op.limit - claimed.length);
        claimed.push(...(rows as unknown as DeliveryRecord[]));
        if (agent.length > 0 || claimed.length >= op.limit || !stepsAside(kind)) continue;
        const retries = yield* all(claimRetriesSql(d, kind), op.lease_until, op.now, op.now, op.limit - claimed.length);
        claimed.push(...(retries as unknown as DeliveryRecord[]));
      }
      // RETURNING gives no order: oldest due first.
      return claimed.sort((x, y) => (x.next_attempt_at < y.next_attempt_at ? -1 : x.next_attempt_at > y.next_attempt_at ? 1 : 0));
    }
    case 'recordDelivery':
      yield* run(
        'UPDATE outbox SET status = ?, attempts = ?, not_before = ?, last_status = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?',
        op.status,
        op.attempts,
        op.next_attempt_at,
        op.last_status,
        op.last_error,
        op.at,
        op.id,
      );
      return undefined;
    case 'redeliver':
      return (
        (yield* run(
          "UPDATE outbox SET status = 'pending', not_before = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND agent_id = ? AND kind = 'webhook' AND status <> 'pending'",
          op.at,
          op.at,
          op.id,
          op.agent_id,
        )) > 0
      );
    case 'createA2APeer':
      yield* writeOp(d, { op: 'createAgent', agent: op.agent });
      yield* run('INSERT INTO a2a_peers (agent_id, card_url, created_at) VALUES (?, ?, ?)', op.agent.id, op.card_url, op.agent.created_at);
      return undefined;
    case 'withdrawMessage': {
      const m = op.message;
      if ((yield* run('DELETE FROM messages WHERE id = ? AND delivered_at IS NULL', m.id)) === 0) return false;
      yield* run(
        'INSERT INTO a2a_canceled (message_id, sender_id, recipient_id, thread_id, created_at, canceled_at) VALUES (?, ?, ?, ?, ?, ?)',
        m.id,
        m.sender_id,
        m.recipient_id,
        m.thread_id,
        m.created_at,
        op.at,
      );
      return true;
    }
    case 'enqueue': {
      const q = op.delivery;
      yield* run(
        `INSERT INTO outbox (id, kind, agent_id, queue, position, status, attempts, not_before, created_at, updated_at)
         SELECT ?, ?, ?, ?, seq, 'pending', 0, ?, ?, ? FROM messages WHERE id = ?`,
        q.id,
        q.kind,
        q.agent_id,
        q.queue,
        q.not_before,
        q.created_at,
        q.created_at,
        q.message_id,
      );
      return undefined;
    }
    case 'meetDeadlines': {
      const pending = "thread_id = ? AND recipient_id = ? AND deadline_state = 'pending'";
      yield* run(
        `UPDATE outbox SET status = 'delivered', last_error = 'met', updated_at = ? WHERE kind = 'deadline' AND status = 'pending' AND queue IN (SELECT id FROM messages WHERE ${pending})`,
        op.at,
        op.thread_id,
        op.recipient_id,
      );
      return yield* run(
        `UPDATE messages SET deadline_state = 'met', deadline_at = ? WHERE ${pending}`,
        op.at,
        op.thread_id,
        op.recipient_id,
      );
    }
    case 'settleDeadline': {
      const changed = yield* run(
        "UPDATE messages SET deadline_state = ?, deadline_note = ?, deadline_at = ? WHERE id = ? AND deadline_state = 'pending'",
        op.state,
        op.note,
        op.at,
        op.message_id,
      );
      if (changed === 0) return false;
      yield* run(
        "UPDATE outbox SET status = 'delivered', last_error = ?, updated_at = ? WHERE kind = 'deadline' AND queue = ? AND status = 'pending'",
        op.state,
        op.at,
        op.message_id,
      );
      yield* appendEvent(d, op.event);
      return true;
    }
    case 'setProcessed': {
      const changed = yield* run(
        'UPDATE messages SET processed = ? WHERE id = ? AND recipient_id = ? AND processed IS NULL',
        json(op.processed),
        op.message_id,
        op.recipient_id,
      );
      if (changed === 0) return false;
      yield* appendEvent(d, op.event);
      return true;
    }
    default:
      return yield* guardOp(op);
  }
}

type GuardOp = Extract<
  WriteOp,
  {
    op:
      | 'setGrantLimits'
      | 'useGrant'
      | 'lapseGrant'
      | 'putGuardSettings'
      | 'putPairBudget'
      | 'countBudget'
      | 'flagLoop'
      | 'clearLoop'
      | 'holdMessage'
      | 'deleteHeld';
  }
>;

/** The guard rails' operations (issue 19): grant limits, budgets, loop flags, held messages. */
function* guardOp(op: GuardOp): Steps<unknown> {
  switch (op.op) {
    case 'setGrantLimits':
      yield* run('DELETE FROM grant_limits WHERE granter_id = ? AND grantee_id = ?', op.granter_id, op.grantee_id);
      for (const l of op.limits) {
        yield* run(
          'INSERT INTO grant_limits (granter_id, grantee_id, scope, expires_at, remaining) VALUES (?, ?, ?, ?, ?)',
          l.granter_id,
          l.grantee_id,
          l.scope,
          l.expires_at,
          l.remaining,
        );
      }
      return undefined;
    case 'useGrant':
      return yield* useGrant(op);
    case 'lapseGrant':
      return yield* lapseGrant(op);
    case 'putGuardSettings': {
      const g = op.settings;
      yield* run(
        `INSERT INTO guard_settings (agent_id, leak_guard, per_hour, per_day, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (agent_id) DO UPDATE SET leak_guard = excluded.leak_guard, per_hour = excluded.per_hour, per_day = excluded.per_day, updated_at = excluded.updated_at`,
        g.agent_id,
        g.leak_guard ? 1 : 0,
        g.per_hour,
        g.per_day,
        g.updated_at,
      );
      return undefined;
    }
    case 'putPairBudget': {
      const b = op.budget;
      if (b.per_hour === null && b.per_day === null) {
        yield* run('DELETE FROM pair_budgets WHERE recipient_id = ? AND sender_id = ?', b.recipient_id, b.sender_id);
        return undefined;
      }
      yield* run(
        `INSERT INTO pair_budgets (recipient_id, sender_id, per_hour, per_day, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (recipient_id, sender_id) DO UPDATE SET per_hour = excluded.per_hour, per_day = excluded.per_day, updated_at = excluded.updated_at`,
        b.recipient_id,
        b.sender_id,
        b.per_hour,
        b.per_day,
        b.updated_at,
      );
      return undefined;
    }
    case 'countBudget':
      for (const w of op.windows) {
        // Windows of earlier periods are done with: one row per pair and period remains.
        yield* run(
          'DELETE FROM budget_counters WHERE recipient_id = ? AND sender_id = ? AND period = ? AND window_start < ?',
          op.recipient_id,
          op.sender_id,
          w.period,
          w.window_start,
        );
        const counted = yield* run(
          `INSERT INTO budget_counters (recipient_id, sender_id, period, window_start, count) VALUES (?, ?, ?, ?, 1)
           ON CONFLICT (recipient_id, sender_id, period, window_start) DO UPDATE SET count = budget_counters.count + 1 WHERE budget_counters.count < ?`,
          op.recipient_id,
          op.sender_id,
          w.period,
          w.window_start,
          w.limit,
        );
        if (counted === 0) throw new StoreError('budget_exceeded', w.period);
      }
      return undefined;
    case 'flagLoop': {
      const l = op.loop;
      return (
        (yield* run(
          `INSERT INTO thread_loops (thread_id, agent_a, agent_b, messages, flagged_at, cleared_at) VALUES (?, ?, ?, ?, ?, NULL)
           ON CONFLICT (thread_id) DO UPDATE SET messages = excluded.messages, flagged_at = excluded.flagged_at, cleared_at = NULL
           WHERE thread_loops.cleared_at IS NOT NULL`,
          l.thread_id,
          l.agent_a,
          l.agent_b,
          l.messages,
          l.flagged_at,
        )) > 0
      );
    }
    case 'clearLoop':
      return (yield* run('UPDATE thread_loops SET cleared_at = ? WHERE thread_id = ? AND cleared_at IS NULL', op.at, op.thread_id)) > 0;
    case 'holdMessage': {
      const h = op.held;
      yield* run(
        'INSERT INTO held_messages (id, sender_id, recipient_id, thread_id, input, reasons, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        h.id,
        h.sender_id,
        h.recipient_id,
        h.thread_id,
        JSON.stringify(h.input),
        JSON.stringify(h.reasons),
        h.created_at,
      );
      return undefined;
    }
    case 'deleteHeld':
      return (yield* run('DELETE FROM held_messages WHERE id = ? AND sender_id = ?', op.id, op.sender_id)) > 0;
  }
}

/** Finds the heads of a kind's open queues (of one agent's, with `agent`), then leases the due ones. */
function* leaseQueueHeads(d: Dialect, kind: OutboxKind, agent: string[], leaseUntil: string, now: string, limit: number): Steps<Row[]> {
  const heads = (yield* all(queueHeadsSql(kind, agent.length > 0), ...agent))
    .map((r) => r.id)
    .filter((id): id is string => typeof id === 'string');
  if (heads.length === 0) return [];
  return yield* all(leaseHeadsSql(d), leaseUntil, d.list(heads), now, now, limit);
}

/**
 * Row-atomic on both backends: of two concurrent sends on the last message of a scope, one gets it.
 * A used-up or expired limit stays, with remaining 0, until the granter renews or lifts it.
 */
function* useGrant(op: Extract<WriteOp, { op: 'useGrant' }>): Steps<number | null> {
  const key = [op.granter_id, op.grantee_id, op.scope] as const;
  const changed = yield* run(
    `UPDATE grant_limits SET remaining = remaining - 1
     WHERE granter_id = ? AND grantee_id = ? AND scope = ? AND (expires_at IS NULL OR expires_at > ?) AND (remaining IS NULL OR remaining > 0)`,
    ...key,
    op.at,
  );
  const [limit] = yield* all('SELECT remaining FROM grant_limits WHERE granter_id = ? AND grantee_id = ? AND scope = ?', ...key);
  if (!limit) return null;
  if (changed === 0) throw new StoreError('grant_lapsed', op.scope);
  const remaining = limit.remaining === null ? null : Number(limit.remaining);
  if (remaining === 0) yield* appendAudit(lapseAudit({ ...op, op: 'lapseGrant', reason: 'used_up' }));
  return remaining;
}

/** Marks an expired scope lapsed (remaining 0) and audits it, once: false when it already was. */
function* lapseGrant(op: Extract<WriteOp, { op: 'lapseGrant' }>): Steps<boolean> {
  const changed = yield* run(
    'UPDATE grant_limits SET remaining = 0 WHERE granter_id = ? AND grantee_id = ? AND scope = ? AND (remaining IS NULL OR remaining > 0)',
    op.granter_id,
    op.grantee_id,
    op.scope,
  );
  if (changed === 0) return false;
  yield* appendAudit(lapseAudit(op));
  return true;
}

const lapseAudit = (op: Extract<WriteOp, { op: 'lapseGrant' }>): AuditDraft => ({
  agent_id: op.granter_id,
  at: op.at,
  action: 'grant.lapsed',
  target_id: op.grantee_id,
  details: { scope: op.scope, reason: op.reason },
});

/**
 * Messages named by id, found through the id index (one probe per id) and then by primary key: a
 * shape no planner turns into a walk through the recipient's whole mailbox. Parameter: the ids.
 */
const bySeqOfIds = (d: Dialect) => `seq IN (SELECT s.seq FROM messages s WHERE ${d.inList('s.id', 'text')})`;

function* insertMessage(m: Omit<MessageRecord, 'seq'>): Steps<MessageRecord> {
  const rows = yield* all(
    `INSERT INTO messages (id, thread_id, sender_id, recipient_id, subject, body, scope, intent, payload, reply_to_id, client_id,
       sealed, sealed_for_sender, ed25519_signature, sig_nonce, signed_at, created_at, delivered_at, read_at, origin, reply_by, deadline_state, held_until)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
     RETURNING seq`,
    m.id,
    m.thread_id,
    m.sender_id,
    m.recipient_id,
    m.subject,
    m.body,
    m.scope,
    m.intent,
    json(m.payload),
    m.reply_to_id,
    m.client_id,
    json(m.sealed),
    json(m.sealed_for_sender),
    m.ed25519_signature,
    m.sig_nonce,
    m.signed_at,
    m.created_at,
    m.delivered_at,
    m.read_at,
    m.origin ?? null,
    m.reply_by ?? null,
    m.deadline_state ?? null,
    m.held_until ?? null,
  );
  // The sender already used this client_id: the caller answers with that message (messageByClientId).
  if (rows.length === 0) throw new StoreError('duplicate', 'client_id already used by this sender');
  return { ...m, seq: Number(rows[0]!.seq) };
}

function* appendEvent(d: Dialect, event: Omit<EventRecord, 'seq'>): Steps<EventRecord> {
  // MAX + 1 in the insert itself: the agent's lock (PostgreSQL) or the single writer (SQLite) keeps it unique.
  const [row] = yield* all(
    `INSERT INTO events (agent_id, seq, id, type, data, created_at)
     SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM events WHERE agent_id = ?
     RETURNING seq`,
    event.agent_id,
    event.id,
    event.type,
    json(event.data),
    event.created_at,
    event.agent_id,
  );
  const seq = Number(row!.seq);
  const enqueue = [event.id, seq, event.created_at, event.created_at, event.created_at, event.agent_id, event.type];
  yield* run(enqueueOnEventSql(d), ...enqueue, ...enqueue);
  return { ...event, seq };
}

function* appendAudit(entry: AuditDraft): Steps<AuditRecord> {
  const [last] = yield* all('SELECT seq, hash FROM audit_log WHERE agent_id = ? ORDER BY seq DESC LIMIT 1', entry.agent_id);
  const seq = ((last?.seq as number | undefined) ?? 0) + 1;
  const prev_hash = (last?.hash as string | undefined) ?? AUDIT_GENESIS;
  const hash = auditHash({ ...entry, seq, prev_hash });
  yield* run(
    'INSERT INTO audit_log (agent_id, seq, at, action, target_id, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    entry.agent_id,
    seq,
    entry.at,
    entry.action,
    entry.target_id,
    json(entry.details),
    prev_hash,
    hash,
  );
  return { ...entry, seq, prev_hash, hash };
}

function* appendServerAudit(entry: ServerAuditDraft): Steps<ServerAuditRecord> {
  const [last] = yield* all('SELECT seq, hash FROM server_audit ORDER BY seq DESC LIMIT 1');
  const r = chainServerAudit(entry, last as { seq: number; hash: string } | undefined);
  yield* run(
    'INSERT INTO server_audit (seq, at, action, target_id, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
    r.seq,
    r.at,
    r.action,
    r.target_id,
    json(r.details),
    r.prev_hash,
    r.hash,
  );
  return r;
}
