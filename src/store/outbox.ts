/**
 * The durable outbox's rules in SQL, once for both backends. A delivery belongs to a kind (`webhook`;
 * `deadline` and `release` since issue 18; `federation`; `a2a`) and to a queue (its destination:
 * for a webhook, the agent whose endpoint it is). A queue's deliveries go out in `position` order, so
 * only each open queue's head is ever due: pending, `not_before` passed, and not leased.
 *
 * A webhook delivery that failed steps out of line (attempts > 0): the queue's head is its oldest
 * delivery not yet attempted, so one failing delivery never holds back the ones behind it; the failed
 * one is retried on its own, when its `not_before` comes (SPEC §8.2). The other kinds keep a failed
 * head in place: a relay to another server, a request to an A2A agent and held mail must arrive in
 * order (SPEC §19.5, §16.4, §18.3), so their queue waits for its head.
 */
import type { OutboxKind } from './types.js';
import type { Dialect } from './dialect.js';

/** Where each kind's queues come from, when a queue is open (worked), and whether a failed delivery steps aside. */
const QUEUES: Partial<Record<OutboxKind, { from: string; queue: string; open: string; stepAside: boolean }>> = {
  webhook: { from: 'webhooks w', queue: 'w.agent_id', open: 'w.enabled', stepAside: true },
  // An AMTP agent's requests to one external A2A agent, in order; the queue is the agent row standing for it.
  a2a: { from: 'a2a_peers ap', queue: 'ap.agent_id', open: 'TRUE', stepAside: false },
  // One queue per remote agent (its local mirror's id), always open: what an agent on another server
  // should hear, in order (SPEC §19.5).
  federation: { from: 'remote_agents r', queue: 'r.agent_id', open: 'TRUE', stepAside: false },
};

/** Whether a failed delivery of `kind` steps out of its queue's line (and is claimed as a retry on its own). */
export const stepsAside = (kind: OutboxKind): boolean => QUEUES[kind]?.stepAside ?? false;

/**
 * Kinds without a table of destinations (issue 18: `deadline`, one queue per message; `release`, one
 * queue per recipient in message order). They are claimed from their due entries (index
 * outbox_kind_due: only what is due is read, however many wait), each checked to be its queue's head.
 */
const DUE_FIRST = ['deadline', 'release'] as const satisfies readonly OutboxKind[];

/** The events that travel to a remote agent's server (SPEC §19.6); the rest concern only this server. */
export const FEDERATED_EVENTS = [
  'contact_request.received',
  'contact_request.approved',
  'authorization.revoked',
  'message.received',
  'message.delivered',
  'message.read',
] as const;

/** The outbox row as a DeliveryRecord (src/store/types.ts). */
export const DELIVERY_COLUMNS =
  'id, kind, agent_id, position AS event_seq, status, attempts, not_before AS next_attempt_at, lease_until, last_status, last_error, created_at, updated_at';

/**
 * Queues what an event just appended calls for, in one statement: a webhook delivery when the agent's
 * webhook is enabled for its type, a federation delivery when the agent mirrors a remote agent and
 * the type travels (SPEC §19.6). At most one applies: a remote agent's mirror has no webhook.
 * (A UNION types its parameters as text: the position is cast.) Parameters, once per branch: id, position, not_before, created_at, updated_at, agent_id, event type.
 */
export const enqueueOnEventSql = (d: Dialect) =>
  `INSERT INTO outbox (id, kind, agent_id, queue, position, status, attempts, not_before, created_at, updated_at)
   SELECT ?, 'webhook', w.agent_id, w.agent_id, CAST(? AS BIGINT), 'pending', 0, ?, ?, ? FROM webhooks w
   WHERE w.agent_id = ? AND w.enabled AND ${d.jsonHas('w.events')}
   UNION ALL
   SELECT ?, 'federation', r.agent_id, r.agent_id, CAST(? AS BIGINT), 'pending', 0, ?, ?, ? FROM remote_agents r
   WHERE r.agent_id = ? AND ? IN (${FEDERATED_EVENTS.map((t) => `'${t}'`).join(', ')})`;

/** The kinds of delivery the outbox holds; a claim takes each kind's due heads in turn. */
export const OUTBOX_KINDS: readonly OutboxKind[] = [...(Object.keys(QUEUES) as OutboxKind[]), ...DUE_FIRST];

/** Whether `kind` has a table of destinations (its queues), or is claimed from its due entries (DUE_FIRST). */
export const hasQueueTable = (kind: OutboxKind): boolean => QUEUES[kind] !== undefined;

/**
 * The heads of a kind's open queues: one index probe per open queue, into the index of deliveries not
 * yet attempted (a kind whose failed deliveries step aside) or of every pending one (a kind that keeps
 * its head in place), so neither delivered history nor a long backlog is ever read. Parameters:
 * [queue] — with `oneQueue`, only that queue (for a webhook, the agent's: its next head right after a
 * delivery, in the same commit). A queue with nothing pending answers a null id.
 */
export function queueHeadsSql(kind: OutboxKind, oneQueue: boolean): string {
  const q = QUEUES[kind];
  if (!q) throw new Error(`outbox kind ${kind} has no queue table: claim it with claimDueSql`);
  const notAttempted = q.stepAside ? ' AND p.attempts = 0' : '';
  return `SELECT (SELECT p.id FROM outbox p WHERE p.kind = '${kind}' AND p.queue = ${q.queue} AND p.status = 'pending'${notAttempted}
            ORDER BY p.position LIMIT 1) AS id
          FROM ${q.from} WHERE ${q.open}${oneQueue ? ` AND ${q.queue} = ?` : ''}`;
}

/**
 * Leases the due, unleased ones among the queue heads found by queueHeadsSql that are still pending (another
 * instance may have delivered one since), oldest due first, and returns them. Parameters: lease_until, the ids (one list parameter), now, now, limit. Found by primary
 * key, whatever the planner's statistics (a join with the heads could be planned as a scan of the outbox
 * while a table of destinations has no statistics yet).
 */
export function leaseHeadsSql(d: Dialect): string {
  return `UPDATE outbox SET lease_until = ? WHERE id IN (
     SELECT d.id FROM outbox d
     WHERE ${d.inList('d.id', 'text')} AND d.status = 'pending' AND d.not_before <= ? AND (d.lease_until IS NULL OR d.lease_until < ?)
     ORDER BY d.not_before LIMIT ?${d.skipLocked})
   RETURNING ${DELIVERY_COLUMNS}`;
}

/**
 * Leases a kind's due retries — deliveries that failed and stepped out of their queue's line — of
 * open queues, oldest due first. Parameters: lease_until, now, now, limit. Bounded by the failed
 * deliveries waiting for a retry (index outbox_status: status, attempts, not_before), never by the
 * backlog of deliveries not yet attempted.
 */
export function claimRetriesSql(d: Dialect, kind: OutboxKind): string {
  const q = QUEUES[kind];
  if (!q?.stepAside) throw new Error(`outbox kind ${kind} keeps failed deliveries in line: it has no separate retries`);
  return `UPDATE outbox SET lease_until = ? WHERE id IN (
     SELECT d.id FROM outbox d JOIN ${q.from} ON ${q.queue} = d.queue
     WHERE d.status = 'pending' AND d.attempts > 0 AND d.not_before <= ? AND d.kind = '${kind}' AND ${q.open}
       AND (d.lease_until IS NULL OR d.lease_until < ?)
     ORDER BY d.not_before LIMIT ?${d.skipLocked})
   RETURNING ${DELIVERY_COLUMNS}`;
}

/**
 * Leases the due heads of a DUE_FIRST kind's queues and returns them. Parameters: lease_until, [agent_id]
 * (with `oneQueue`, that agent's), now, now, limit.
 */
export function claimDueSql(d: Dialect, kind: OutboxKind, oneQueue: boolean): string {
  return `UPDATE outbox SET lease_until = ? WHERE id IN (
     SELECT d.id FROM outbox d
     WHERE ${oneQueue ? 'd.agent_id = ? AND ' : ''}d.kind = '${kind}' AND d.status = 'pending' AND d.not_before <= ? AND (d.lease_until IS NULL OR d.lease_until < ?)
       AND d.position = (SELECT MIN(position) FROM outbox p WHERE p.kind = '${kind}' AND p.queue = d.queue AND p.status = 'pending')
     ORDER BY d.not_before LIMIT ?${d.skipLocked})
   RETURNING ${DELIVERY_COLUMNS}`;
}
