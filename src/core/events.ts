/**
 * The per-agent event log, as subscribers see it: the stream replays it by sequence number and the
 * webhook outbox pushes it. Stored events hold references; they are expanded when handed out.
 */
import type { StreamEvent } from '../protocol/schemas.js';
import type { EventRecord, WriteOp } from '../store/types.js';
import { commit, untilNoneRemoved, type Caller, type CoreDeps } from './context.js';
import { nowIso } from './ids.js';
import type { Messaging } from './messaging.js';

export class Events {
  constructor(
    private readonly deps: CoreDeps,
    private readonly messaging: Messaging,
  ) {}

  /** The sequence number of the agent's newest event (0 when none): where a fresh stream starts. */
  head(caller: Caller): Promise<number> {
    return this.deps.store.lastEventSeq(caller.id);
  }

  /** Events after `afterSeq`, oldest first, expanded for delivery. */
  async after(caller: Caller, afterSeq: number, limit = 100): Promise<StreamEvent[]> {
    const rows = await this.deps.store.events(caller.id, { afterSeq, limit });
    return Promise.all(rows.map((e) => this.expand(caller, e)));
  }

  async expand(caller: Caller, e: EventRecord): Promise<StreamEvent> {
    let data: Record<string, unknown> = e.data;
    if (e.type === 'message.received' && typeof e.data.message_id === 'string') {
      const message = await this.messaging.find(caller, e.data.message_id);
      if (message) data = { ...e.data, message };
    }
    return { id: e.id, seq: e.seq, type: e.type as StreamEvent['type'], created_at: e.created_at, agent_id: e.agent_id, data };
  }

  /** Drops events past the replay window (and finished webhook deliveries with them); a window of 0 days keeps them forever. */
  async prune(): Promise<number> {
    if (this.deps.config.retention.eventDays === 0) return 0;
    const olderThan = new Date(Date.now() - this.deps.config.retention.eventDays * 86_400_000).toISOString();
    return untilNoneRemoved(async () => (await commit(this.deps, [{ op: 'pruneEvents', olderThan }]))[0]);
  }

  /** Messages pushed to the agent (stream written, webhook answered 2xx) count as delivered. */
  async delivered(caller: Caller, events: StreamEvent[]): Promise<void> {
    const ops = this.deliveredOps(caller, events);
    if (ops.length) await commit(this.deps, ops);
  }

  /** The writes that mark the messages among `events` delivered (receipts), to join another commit. */
  deliveredOps(caller: Caller, events: StreamEvent[]): WriteOp[] {
    const ids = events.flatMap((e) => (e.type === 'message.received' && typeof e.data.message_id === 'string' ? [e.data.message_id] : []));
    return ids.length ? [{ op: 'markDelivered', recipient_id: caller.id, ids, at: nowIso() }] : [];
  }
}
