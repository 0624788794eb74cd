/**
 * The durable outbox, for every kind of delivery (webhook today; federation and scheduled release
 * plug in as further kinds, with no new queue). The store keeps the queues (src/store/outbox.ts):
 * one queue per destination, worked in order, only its head due, after its `not_before`, under a
 * lease. Here: claiming, dispatch to the kind's rules, and what a failed attempt leads to — a retry
 * on the kind's schedule, or the dead letter queue (from which `redeliver` puts it back).
 */
import type { DeliveryRecord, DeliveryStatus, OutboxKind, WriteOp } from '../store/types.js';
import { commit, type CoreDeps } from './context.js';
import { nowIso } from './ids.js';

/** What one kind of delivery contributes to the outbox. */
export interface OutboxKindRules {
  /** Seconds to wait after the 1st, 2nd, … failed attempt; past its end a delivery is dead-lettered. */
  retrySeconds(): readonly number[];
  /** Runs a claimed delivery; resolves with its queue's next head, already claimed, to attempt at once. */
  attempt(d: DeliveryRecord, leaseMs: number): Promise<DeliveryRecord | null>;
}

export class Outbox {
  constructor(
    private readonly deps: CoreDeps,
    private readonly kinds: Record<OutboxKind, OutboxKindRules>,
  ) {}

  /** Leases up to `limit` due queue heads, of every kind, for a worker. */
  async claim(limit: number, leaseMs: number): Promise<DeliveryRecord[]> {
    const [claimed] = await commit(this.deps, [claimOp(this.deps.config.clock.now(), limit, leaseMs)]);
    return claimed;
  }

  attempt(d: DeliveryRecord, leaseMs: number): Promise<DeliveryRecord | null> {
    return this.kinds[d.kind].attempt(d, leaseMs);
  }
}

/** Leases up to `limit` queue heads due at `now` (of one agent's queues, with `agentId`) for `leaseMs`. */
export function claimOp(now: number, limit: number, leaseMs: number, agentId?: string): Extract<WriteOp, { op: 'claimDeliveries' }> {
  return {
    op: 'claimDeliveries',
    now: new Date(now).toISOString(),
    lease_until: new Date(now + leaseMs).toISOString(),
    limit,
    ...(agentId ? { agent_id: agentId } : {}),
  };
}

/** Records an attempt's outcome and releases the lease; a finished delivery keeps `not_before` at now. */
export function recordOp(
  d: DeliveryRecord,
  status: DeliveryStatus,
  lastStatus: number | null,
  error: string | null,
  notBefore?: string,
): WriteOp {
  const at = nowIso();
  return {
    op: 'recordDelivery',
    id: d.id,
    status,
    attempts: d.attempts + 1,
    next_attempt_at: notBefore ?? at,
    last_status: lastStatus,
    last_error: error,
    at,
  };
}

/**
 * After a failed attempt: when to try again, from the kind's schedule with ±20 % jitter (so a
 * recovering endpoint is not hit by every queue at once), or null once the schedule is exhausted.
 */
export function retryAt(schedule: readonly number[], d: DeliveryRecord): string | null {
  const attempts = d.attempts + 1;
  if (attempts > schedule.length) return null;
  const delayMs = schedule[attempts - 1]! * 1000 * (0.8 + Math.random() * 0.4);
  return new Date(Date.now() + delayMs).toISOString();
}
