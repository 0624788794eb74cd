/** The core's context (store, config, notifier, limiter) and what every service shares: committing operations, audit and event ops, finding agents, the current caller. */
import type { Config } from '../config.js';
import { AmtpError, storageUnavailable } from '../protocol/errors.js';
import type { EventType } from '../protocol/schemas.js';
import { StoreError, type AgentRecord, type AuditDraft, type Store, type WriteOp } from '../store/types.js';
import { newEventId, nowIso } from './ids.js';
import type { Notifier } from './notifier.js';
import type { RateLimiter } from './rate-limit.js';

/** What every part of the core is built from. */
export interface CoreDeps {
  store: Store;
  config: Config;
  notifier: Notifier;
  limiter: RateLimiter;
}

/** The authenticated agent on whose behalf an operation runs. */
export type Caller = AgentRecord;

export function auditOp(
  agent_id: string,
  action: AuditDraft['action'],
  target_id: string | null,
  details: Record<string, unknown> = {},
): WriteOp {
  return { op: 'appendAudit', entry: { agent_id, at: nowIso(), action, target_id, details } };
}

/**
 * The caller as stored now (a delivery secret rotated meanwhile, on any instance, is picked up), or
 * 401 when the key it authenticated with was rotated away (or reset, or the agent deleted) since, or
 * 403 when the operator suspended the agent since.
 */
export async function currentCaller(store: Store, caller: Caller): Promise<Caller> {
  const now = await store.agentById(caller.id);
  if (!now || now.api_key_hash !== caller.api_key_hash) throw keyRevoked();
  if (now.suspended_at) throw suspended(now.suspended_at);
  return now;
}

export const suspended = (at: string) =>
  new AmtpError('agent_suspended', `This agent was suspended by the server operator at ${at}. Contact the operator to have it lifted.`);

export const keyRevoked = () =>
  new AmtpError(
    'invalid_api_key',
    'This API key was rotated away, so this request was ended. Use the new key (it was shown once, at rotation).',
  );

/** Id or name → agent. */
export async function findAgent(store: Store, ref: string): Promise<AgentRecord | null> {
  return ref.startsWith('a2a_') ? store.agentById(ref) : store.agentByName(ref.toLowerCase());
}

/** Id or name → an agent other agents may address: one the operator suspended looks unknown. */
export async function findActiveAgent(store: Store, ref: string): Promise<AgentRecord | null> {
  const agent = await findAgent(store, ref);
  return agent && !agent.suspended_at ? agent : null;
}

/** Turns storage failures into API errors; anything else is a bug and propagates as such. */
export function storageError(error: unknown): never {
  if (error instanceof StoreError && error.kind === 'unavailable') throw storageUnavailable();
  throw error;
}

export function eventOp(agent_id: string, type: EventType, data: Record<string, unknown>): WriteOp {
  return { op: 'appendEvent', event: newEvent(agent_id, type, data) };
}

export const newEvent = (agent_id: string, type: EventType, data: Record<string, unknown>) => ({
  id: newEventId(),
  agent_id,
  type,
  data,
  created_at: nowIso(),
});

/** The event an operation appended: an `appendEvent`, or a conditional operation carrying one that reported `true`. */
function appended(op: WriteOp, result: unknown): { type: string; agent_id: string } | null {
  if (op.op === 'appendEvent') return op.event;
  return 'event' in op && result === true ? op.event : null;
}

/**
 * `store.apply` with storage failures translated. Once the operations are durable, every event among
 * them wakes its agent's long-polls and streams.
 */
export async function commit<const T extends readonly WriteOp[]>(deps: Pick<CoreDeps, 'store' | 'notifier'>, ops: T) {
  let results;
  try {
    results = await deps.store.apply(ops);
  } catch (error) {
    return storageError(error);
  }
  ops.forEach((op, i) => {
    const event = appended(op, results[i]);
    if (event) deps.notifier.publish({ type: event.type, agent_id: event.agent_id });
  });
  return results;
}

/** Runs a retention batch (src/store/writes.ts PRUNE_BATCH) until one removes nothing; the total removed. */
export async function untilNoneRemoved(batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let removed = await batch(); removed > 0; removed = await batch()) total += removed;
  return total;
}
