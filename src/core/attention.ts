/**
 * Attention (issue 18): processed receipts, declining a deadline, quiet-hours settings and the triage
 * digest. What a send adds and the outbox kinds that act later live in deadlines.ts; the digest's
 * grouping and ranking in digest.ts; the time-zone arithmetic (Temporal's) in quiet-hours.ts.
 */
import { receiptFields, verifyReceipt } from '../crypto/receipt.js';
import { AmtpError, agentNotFound } from '../protocol/errors.js';
import type { AckInput, DigestOutput, Message, QuietHoursInput } from '../protocol/schemas.js';
import type { MessageRecord, ProcessedRecord, QuietHoursRecord, WriteOp } from '../store/types.js';
import { commit, eventOp, findAgent, newEvent, type Caller, type CoreDeps } from './context.js';
import { buildDigest } from './digest.js';
import { nowIso } from './ids.js';
import type { Messaging } from './messaging.js';
import { assertTimeZone, quietUntil } from './quiet-hours.js';

export class Attention {
  constructor(
    private readonly deps: CoreDeps,
    private readonly messaging: Messaging,
  ) {}

  digest(caller: Caller): Promise<DigestOutput> {
    return buildDigest(this.deps, caller);
  }

  /**
   * The recipient acknowledges a message as processed, once. A recipient that publishes a signing key
   * signs the receipt (SPEC §12); the server checks it here and the sender's client checks it again.
   * Processing a message reads it: an unread one is marked read in the same commit.
   */
  async ack(caller: Caller, id: string, input: AckInput): Promise<Message> {
    const m = await this.received(caller, id);
    if (m.processed) throw alreadyProcessed(m.processed);
    const at = nowIso();
    const processed: ProcessedRecord = {
      outcome: input.outcome,
      note: input.note ?? null,
      at,
      ...this.checkReceiptSignature(caller, m, input),
    };
    const event = newEvent(m.sender_id, 'message.processed', {
      message_id: m.id,
      thread_id: m.thread_id,
      recipient_id: caller.id,
      ...processed,
    });
    const read: WriteOp[] = m.read_at
      ? []
      : [
          { op: 'markRead', recipient_id: caller.id, ids: [m.id], at },
          eventOp(m.sender_id, 'message.read', { message_id: m.id, thread_id: m.thread_id, reader_id: caller.id, read_at: at }),
        ];
    const [recorded] = await commit(this.deps, [
      { op: 'setProcessed', message_id: m.id, recipient_id: caller.id, processed, event },
      ...read,
    ]);
    if (!recorded) throw alreadyProcessed((await this.deps.store.message(id))?.processed ?? processed);
    return this.messaging.get(caller, id);
  }

  /** The recipient declines a pending reply-by deadline ("can't by then"); the sender hears `deadline.declined` with the reason. */
  async declineDeadline(caller: Caller, id: string, reason: string): Promise<Message> {
    const m = await this.received(caller, id);
    const event = newEvent(m.sender_id, 'deadline.declined', {
      message_id: m.id,
      thread_id: m.thread_id,
      recipient_id: caller.id,
      reply_by: m.reply_by,
      reason,
    });
    const [settled] =
      m.deadline_state === 'pending'
        ? await commit(this.deps, [{ op: 'settleDeadline', message_id: m.id, state: 'declined', note: reason, at: nowIso(), event }])
        : [false];
    if (!settled) {
      throw new AmtpError(
        'no_pending_deadline',
        `This message has no pending reply-by deadline (${m.deadline_state ?? 'none was set'}). Nothing to decline.`,
        { state: m.deadline_state ?? null },
      );
    }
    return this.messaging.get(caller, id);
  }

  async quietHours(caller: Caller): Promise<{ quiet_hours: (QuietHoursRecord & { held_until: string | null }) | null }> {
    const agent = await this.deps.store.agentById(caller.id);
    return { quiet_hours: this.view(agent?.quiet_hours ?? null) };
  }

  /** Sets (or with null removes) the quiet hours. Mail already held keeps its release time. */
  async setQuietHours(
    caller: Caller,
    input: QuietHoursInput | null,
  ): Promise<{ quiet_hours: (QuietHoursRecord & { held_until: string | null }) | null }> {
    let record: QuietHoursRecord | null = null;
    if (input) {
      assertTimeZone(input.time_zone);
      if (input.start === input.end)
        throw new AmtpError(
          'invalid_request',
          'start and end are the same time: a window needs a length. Remove quiet hours with DELETE instead.',
        );
      const except = await Promise.all(
        input.except.map(async (ref) => (await findAgent(this.deps.store, ref))?.id ?? Promise.reject(agentNotFound())),
      );
      record = { time_zone: input.time_zone, start: input.start, end: input.end, except: [...new Set(except)] };
    }
    await commit(this.deps, [{ op: 'updateAgent', id: caller.id, patch: { quiet_hours: record } }]);
    return { quiet_hours: this.view(record) };
  }

  private view(q: QuietHoursRecord | null) {
    if (!q) return null;
    const until = quietUntil(q, this.deps.config.clock.now());
    return { ...q, held_until: until === null ? null : new Date(until).toISOString() };
  }

  private async received(caller: Caller, id: string): Promise<MessageRecord> {
    const m = await this.deps.store.message(id);
    if (!m || m.recipient_id !== caller.id)
      throw new AmtpError(
        'message_not_found',
        'No message with that id among the messages you received (only the recipient acknowledges or declines).',
      );
    return m;
  }

  private checkReceiptSignature(
    caller: Caller,
    m: MessageRecord,
    input: AckInput,
  ): Pick<ProcessedRecord, 'ed25519_signature' | 'signed_at'> {
    const { ed25519_signature, signed_at } = input;
    if (!caller.public_key) {
      if (ed25519_signature)
        throw new AmtpError(
          'invalid_signature',
          'You publish no signing key, so a receipt signature cannot be checked. Publish one with PUT /api/me/keys.',
        );
      return { ed25519_signature: null, signed_at: null };
    }
    if (!ed25519_signature || !signed_at) {
      throw new AmtpError(
        'signature_required',
        'You publish a signing key, so a processed receipt must carry ed25519_signature and signed_at (SPEC §12, processed receipts).',
      );
    }
    const window = this.deps.config.signatureWindowSeconds * 1000;
    if (!(Math.abs(Date.now() - Date.parse(signed_at)) <= window)) {
      throw new AmtpError(
        'stale_signature',
        `signed_at must be within ${window / 1000} s of the server's clock (now ${nowIso()}). Check your clock and sign again.`,
      );
    }
    const fields = receiptFields(m, input, signed_at);
    if (!verifyReceipt(fields, ed25519_signature, caller.public_key)) {
      throw new AmtpError(
        'invalid_signature',
        'The receipt signature does not verify against your published signing key. Sign the processed-receipt fields (SPEC §12).',
      );
    }
    return { ed25519_signature, signed_at };
  }
}

const alreadyProcessed = (p: ProcessedRecord) =>
  new AmtpError(
    'already_processed',
    `This message was already acknowledged as ${p.outcome} at ${p.at}; a receipt is final. Reply in the thread to add anything.`,
    { outcome: p.outcome },
  );
