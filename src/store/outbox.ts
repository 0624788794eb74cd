/**
 * The durable outbox's rules in SQL, once for both backends. A delivery belongs to a kind (today only
 * `webhook`; federation and scheduled release plug in as new kinds) and to a queue (its destination:
 * for a webhook, the agent whose endpoint it is). A queue's deliveries go out in `position` order, so
 * only each open queue's head is ever due: pending, `not_before` passed, and not leased.
 *
 * A delivery that failed steps out of line (attempts > 0): the queue's head is its oldest delivery
 * not yet attempted, so one failing delivery never holds back the ones behind it; the failed one is
 * retried on its own, when its `not_before` comes (SPEC §8.2).
 */
import type { OutboxKind } from './types.js';
import type { Dialect } from './dialect.js';

/** Where each kind's queues come from, and when a queue is open (worked). */
const QUEUES: Record<OutboxKind, { from: string; queue: string; open: string }> = {
  webhook: { from: 'webhooks w', queue: 'w.agent_id', open: 'w.enabled' },
};

/** The outbox row as a DeliveryRecord (src/store/types.ts). */
export const DELIVERY_COLUMNS =
  'id, kind, agent_id, position AS event_seq, status, attempts, not_before AS next_attempt_at, lease_until, last_status, last_error, created_at, updated_at';

/**
 * Queues a webhook delivery for an event just appended, when the agent's webhook is enabled for its
 * type. Parameters: id, position, not_before, created_at, updated_at, agent_id, event type.
 */
export const enqueueOnEventSql = (d: Dialect) =>
  `INSERT INTO outbox (id, kind, agent_id, queue, position, status, attempts, not_before, created_at, updated_at)
   SELECT ?, 'webhook', w.agent_id, w.agent_id, ?, 'pending', 0, ?, ?, ? FROM webhooks w
   WHERE w.agent_id = ? AND w.enabled AND ${d.jsonHas('w.events')}`;

/** The kinds of delivery the outbox holds; a claim takes each kind's due heads in turn. */
export const OUTBOX_KINDS = Object.keys(QUEUES) as OutboxKind[];

/**
 * Leases a kind's due queue heads and returns them. Parameters: lease_until, [queue], now, now, limit.
 * With `oneQueue`, only that queue (for a webhook, the agent's: its next head right after a
 * delivery, in the same commit).
 *
 * The plan is bounded by construction, whatever the planner's statistics: the heads are found first
 * (a materialized CTE the planner cannot turn inside out), one index probe per open queue into the
 * index of deliveries not yet attempted, so neither delivered history nor a long backlog is ever read;
 * only then are the heads filtered by due time and lease.
 */
export function claimHeadsSql(d: Dialect, kind: OutboxKind, oneQueue: boolean): string {
  const q = QUEUES[kind];
  return `UPDATE outbox SET lease_until = ? WHERE id IN (
     WITH heads AS MATERIALIZED (
       SELECT (SELECT p.id FROM outbox p WHERE p.kind = '${kind}' AND p.queue = ${q.queue} AND p.status = 'pending' AND p.attempts = 0
               ORDER BY p.position LIMIT 1) AS id
       FROM ${q.from} WHERE ${q.open}${oneQueue ? ` AND ${q.queue} = ?` : ''})
     SELECT d.id FROM heads JOIN outbox d ON d.id = heads.id
     WHERE d.not_before <= ? AND (d.lease_until IS NULL OR d.lease_until < ?)
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
  return `UPDATE outbox SET lease_until = ? WHERE id IN (
     SELECT d.id FROM outbox d JOIN ${q.from} ON ${q.queue} = d.queue
     WHERE d.status = 'pending' AND d.attempts > 0 AND d.not_before <= ? AND d.kind = '${kind}' AND ${q.open}
       AND (d.lease_until IS NULL OR d.lease_until < ?)
     ORDER BY d.not_before LIMIT ?${d.skipLocked})
   RETURNING ${DELIVERY_COLUMNS}`;
}
