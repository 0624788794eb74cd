/**
 * Reply-by deadlines and held-mail releases: what a send adds (its deadline, its hold), and the two
 * outbox kinds that act later — `deadline` (one queue per message, due at reply_by; fires
 * `deadline.missed` once, guarded by the message's deadline state) and `release` (one queue per
 * recipient, in message order, due when its quiet hours end; appends the `message.received` event
 * that was held back, which the stream and the webhook then push).
 */
import { AmtpError } from '../protocol/errors.js';
import type { SendInput } from '../protocol/schemas.js';
import type { AgentRecord, DeliveryRecord, MessageRecord, WriteOp } from '../store/types.js';
import { commit, eventOp, newEvent, type Caller, type CoreDeps } from './context.js';
import { nowIso } from './ids.js';
import { claimOp, recordOp, type OutboxKindRules } from './outbox.js';
import { quietUntil } from './quiet-hours.js';

/** The scope a recipient grants to let a peer through its quiet hours. */
export const URGENT_SCOPE = 'urgent';

const deadlineId = (messageId: string) => `ddl_${messageId}`;
const releaseId = (messageId: string) => `rel_${messageId}`;
const messageOf = (d: DeliveryRecord) => d.id.slice(4);

export interface SendAttention {
  /** Columns of the new message. */
  fields: Pick<MessageRecord, 'reply_by' | 'deadline_state' | 'held_until'>;
  /** Operations joining the message's commit (after its insert). */
  ops: WriteOp[];
  /** Held: the `message.received` event waits for the release. */
  held: boolean;
}

/** What a message being sent adds: its deadline, its hold, and the deadlines its reply meets. */
export function attentionOnSend(
  deps: CoreDeps,
  sender: Caller,
  recipient: AgentRecord,
  input: SendInput,
  message: { id: string; thread_id: string },
): SendAttention {
  const now = deps.config.clock.now();
  const at = new Date(now).toISOString();
  const ops: WriteOp[] = [];
  let reply_by: string | null = null;
  if (input.reply_by !== undefined) {
    const due = Date.parse(input.reply_by);
    if (!(due > now)) throw new AmtpError('invalid_request', `reply_by must be in the future (the server's time is ${at}).`);
    reply_by = new Date(due).toISOString();
    ops.push(enqueue('deadline', deadlineId(message.id), sender.id, message.id, message.id, reply_by, at));
  }
  const quiet = recipient.quiet_hours;
  const passes = !quiet || input.scope === URGENT_SCOPE || quiet.except.includes(sender.id);
  const until = passes ? null : quietUntil(quiet, now);
  const held_until = until === null ? null : new Date(until).toISOString();
  if (held_until) ops.push(enqueue('release', releaseId(message.id), recipient.id, recipient.id, message.id, held_until, at));
  // A message in a thread is a reply there: it meets every deadline its sender was given in that thread.
  if (input.reply_to_id) ops.push({ op: 'meetDeadlines', thread_id: message.thread_id, recipient_id: sender.id, at });
  return { fields: { reply_by, deadline_state: reply_by ? 'pending' : null, held_until }, ops, held: held_until !== null };
}

function enqueue(
  kind: 'deadline' | 'release',
  id: string,
  agent_id: string,
  queue: string,
  message_id: string,
  not_before: string,
  created_at: string,
): WriteOp {
  return { op: 'enqueue', delivery: { id, kind, agent_id, queue, message_id, not_before, created_at } };
}

/** The `message.received` event of a message (its recipient's). */
export const receivedEvent = (m: Pick<MessageRecord, 'id' | 'thread_id' | 'sender_id' | 'recipient_id'>) =>
  eventOp(m.recipient_id, 'message.received', { message_id: m.id, thread_id: m.thread_id, sender_id: m.sender_id });

/** Outbox kind `deadline`: reply_by passed with no reply and no decline → the sender hears `deadline.missed`, once. */
export class DeadlineRules implements OutboxKindRules {
  constructor(private readonly deps: CoreDeps) {}

  retrySeconds(): readonly number[] {
    return this.deps.config.webhooks.retrySeconds;
  }

  async attempt(d: DeliveryRecord): Promise<DeliveryRecord | null> {
    const m = await this.deps.store.message(messageOf(d));
    if (!m || m.deadline_state !== 'pending') {
      await commit(this.deps, [recordOp(d, 'delivered', null, m ? `deadline ${m.deadline_state}` : 'message no longer exists')]);
      return null;
    }
    const at = nowIso();
    const event = newEvent(m.sender_id, 'deadline.missed', {
      message_id: m.id,
      thread_id: m.thread_id,
      recipient_id: m.recipient_id,
      reply_by: m.reply_by,
    });
    await commit(this.deps, [
      { op: 'settleDeadline', message_id: m.id, state: 'missed', note: null, at, event },
      recordOp(d, 'delivered', null, null, at),
    ]);
    return null;
  }
}

/** Outbox kind `release`: held mail is announced (event, stream, webhook) when the quiet hours end, in order. */
export class ReleaseRules implements OutboxKindRules {
  constructor(private readonly deps: CoreDeps) {}

  retrySeconds(): readonly number[] {
    return this.deps.config.webhooks.retrySeconds;
  }

  async attempt(d: DeliveryRecord, leaseMs: number): Promise<DeliveryRecord | null> {
    const m = await this.deps.store.message(messageOf(d));
    const ops: WriteOp[] = m ? [receivedEvent(m)] : [];
    const results = await commit(this.deps, [
      ...ops,
      recordOp(d, 'delivered', null, m ? null : 'message no longer exists'),
      claimOp(this.deps.config.clock.now(), 1, leaseMs, d.agent_id),
    ]);
    return (results.at(-1) as DeliveryRecord[])[0] ?? null;
  }
}

/** The attention fields of a message as every viewer sees them. */
export function attentionView(m: MessageRecord) {
  return {
    reply_by: m.reply_by ?? null,
    deadline: m.deadline_state ? { state: m.deadline_state, note: m.deadline_note ?? null, at: m.deadline_at ?? null } : null,
    held_until: m.held_until ?? null,
    processed: m.processed ?? null,
  };
}
