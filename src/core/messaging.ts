/**
 * Messages: accept (consent-gated, idempotent, durable before the 202), hand out, track receipts.
 */
import { AmtpError, agentNotFound } from '../protocol/errors.js';
import type { Conversation, InboxOutput, InboxQuery, LoopFlag, Message, MessagesPage, SendInput, SendOutput } from '../protocol/schemas.js';
import { createHmac } from 'node:crypto';
import { canonicalJson } from '../crypto/jcs.js';
import { verifyMessageSignatureNode } from '../crypto/node-verify.js';
import { StoreError, type AgentRecord, type MessageRecord, type RelayRecord, type WriteOp } from '../store/types.js';
import { addressOf, serverDomain } from './addresses.js';
import type { Capabilities } from './capabilities.js';
import type { Consent } from './consent.js';
import { auditOp, commit, currentCaller, eventOp, findAgent, untilNoneRemoved, type Caller, type CoreDeps } from './context.js';
import { loopView, type Guard } from './guard.js';
import { newMessageId, newThreadId, nowIso } from './ids.js';
import { pageOf, parseCursor } from './pages.js';
import { attentionOnSend, attentionView, receivedEvent } from './deadlines.js';
import type { MailboxEvent } from './notifier.js';

const isMail = (event: MailboxEvent) => event.type === 'message.received';

export class Messaging {
  /** Set when the server federates: the delivery receipts owed to senders on other servers (core/federation.ts). */
  deliveryReceipts?: (delivered: MessageRecord[], at: string) => Promise<WriteOp[]>;

  constructor(
    private readonly deps: CoreDeps,
    private readonly consent: Consent,
    private readonly capabilities: Capabilities,
    private readonly guard: Guard,
  ) {}

  /** `options.id`: the id a message relayed from another server already has (core/federation.ts). */
  async send(sender: Caller, input: SendInput, options: { id?: string } = {}): Promise<SendOutput> {
    const { store, config, limiter } = this.deps;
    this.assertSize(input);
    if (input.client_id) {
      // A retry of an accepted message answers with the original, even if consent changed since.
      const previous = await store.messageByClientId(sender.id, input.client_id);
      if (previous) return accepted(previous);
    }
    limiter.take(`send:${sender.id}`, config.limits.sendPerMinute, 60_000, 'messages');
    const recipient = await this.consent.assertCanSend(sender, input.recipient_id, input.scope);
    limiter.take(`pair:${sender.id}:${recipient.id}`, config.limits.pairPerMinute, 60_000, `messages to ${recipient.name}`);
    const signature = this.checkSignature(sender, recipient, input);
    const thread_id = input.reply_to_id ? await this.threadOf(input.reply_to_id, sender.id, recipient.id) : newThreadId();
    // A sealed payload is validated by the recipient's client, which alone can read it.
    if (input.intent && !input.sealed) await this.capabilities.assertValidIntent(recipient.id, input.intent, input.payload);
    const guard = await this.guard.check(sender, recipient, input, thread_id, Boolean(input.reply_to_id));
    const id = options.id ?? newMessageId();
    const nonce = signature
      ? [{ op: 'useNonce', sender_id: sender.id, nonce: signature.sig_nonce, expires_at: signature.nonceExpires } as const]
      : [];
    if (guard.hold) return this.guard.hold(sender, recipient, input, { id, thread_id, reasons: guard.hold, ops: nonce });
    const attention = attentionOnSend(this.deps, sender, recipient, input, { id, thread_id });
    const committed = commit(this.deps, [
      {
        op: 'insertMessage',
        message: {
          ...messageRecord(id, thread_id, sender, recipient, input, signature, this.deps.config.clock.now()),
          ...attention.fields,
        },
      },
      // Mail held by the recipient's quiet hours is announced when they end (outbox kind `release`).
      ...(attention.held ? [] : [receivedEvent({ id, thread_id, sender_id: sender.id, recipient_id: recipient.id })]),
      ...attention.ops,
      ...nonce,
      ...guard.ops,
    ]);
    try {
      return accepted((await committed)[0]);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      const refused = guard.refusal(error);
      if (refused) throw refused;
      if (error.kind !== 'duplicate') throw error;
      // A concurrent retry with the same client_id committed first: answer with its message.
      const winner = input.client_id ? await store.messageByClientId(sender.id, input.client_id) : null;
      if (winner) return accepted(winner);
      throw new AmtpError(
        'replayed_nonce',
        'This signature nonce was already used. Sign the message again with a fresh nonce (and a client_id to make retries safe).',
      );
    }
  }

  /**
   * Sends a message the leak guard held, as its human approved it: the consent gate, the loop breaker,
   * the grant's limits and the budget apply as at any send; the signature was checked when it was held.
   */
  async approveHeld(sender: Caller, id: string): Promise<SendOutput> {
    const held = await this.guard.heldMessage(sender, id);
    const input = held.input as SendInput;
    const recipient = await this.consent.assertCanSend(sender, held.recipient_id, input.scope);
    const guard = await this.guard.check(sender, recipient, input, held.thread_id, Boolean(input.reply_to_id), true);
    const signature =
      input.ed25519_signature && input.sig_nonce && input.signed_at
        ? { ed25519_signature: input.ed25519_signature, sig_nonce: input.sig_nonce, signed_at: input.signed_at }
        : null;
    try {
      // Approved now, it is sent now: the recipient's quiet hours and its reply-by apply as at any send.
      const attention = attentionOnSend(this.deps, sender, recipient, input, { id, thread_id: held.thread_id });
      const [message] = await commit(this.deps, [
        {
          op: 'insertMessage',
          message: {
            ...messageRecord(id, held.thread_id, sender, recipient, input, signature, this.deps.config.clock.now()),
            ...attention.fields,
          },
        },
        { op: 'deleteHeld', id, sender_id: sender.id },
        ...(attention.held ? [] : [receivedEvent({ id, thread_id: held.thread_id, sender_id: sender.id, recipient_id: recipient.id })]),
        ...attention.ops,
        auditOp(sender.id, 'held.approved', recipient.id, { message_id: id, reasons: held.reasons }),
        ...guard.ops,
      ]);
      return accepted(message);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      const duplicate = new AmtpError(
        'held_not_found',
        'That held message was already approved, or a message with its client_id was sent since (discard it: DELETE /api/held/:id).',
      );
      throw guard.refusal(error) ?? (error.kind === 'duplicate' ? duplicate : error);
    }
  }

  /** Unread or all, oldest first by default; with `wait`, long-polls until something arrives. */
  async inbox(authenticated: Caller, q: InboxQuery, signal?: AbortSignal): Promise<InboxOutput> {
    let caller = authenticated;
    const { store, notifier, config } = this.deps;
    const cursorSeq = parseCursor(q.cursor);
    const fetch = () => store.inbox(caller.id, { unreadOnly: q.unread_only, cursorSeq, order: q.order, limit: q.limit + 1 });
    const wait = Math.min(q.wait, config.limits.maxWaitSeconds);
    // A long-poll listens before its first read, so mail committed in between still wakes it.
    const done = wait > 0 ? new AbortController() : null;
    const woken = done && notifier.wait(caller.id, wait * 1000, signal ? AbortSignal.any([signal, done.signal]) : done.signal, isMail);
    let rows = await fetch();
    if (woken && rows.length === 0) {
      await woken;
      // The key may have been rotated meanwhile (on any instance): the old key gets nothing more.
      caller = await currentCaller(store, caller);
      rows = await fetch();
    }
    done?.abort();
    const { page, next_cursor } = pageOf(rows, q.limit);
    const delivered = await this.markDelivered(caller, page);
    return { messages: await this.views(delivered, caller), unread_count: await store.unreadCount(caller.id), next_cursor };
  }

  /** A message the caller sent or received, as it is handed out, without side effects; null if none. */
  async find(caller: Caller, id: string): Promise<Message | null> {
    const message = await this.deps.store.message(id);
    if (!message || (message.sender_id !== caller.id && message.recipient_id !== caller.id)) return null;
    return (await this.views([message], caller))[0]!;
  }

  /** A message the caller sent or received. Reading a received one counts as its delivery. */
  async get(caller: Caller, id: string): Promise<Message> {
    const message = await this.visible(caller, id);
    const [shown] = await this.markDelivered(caller, [message]);
    return (await this.views([shown!], caller))[0]!;
  }

  async markRead(caller: Caller, id: string): Promise<Message> {
    const message = await this.visible(caller, id);
    if (message.recipient_id !== caller.id) {
      throw new AmtpError('invalid_request', 'Only the recipient can mark a message read. Check its status with GET /api/messages/:id.');
    }
    if (!message.read_at) await this.commitRead(caller, [message]);
    return this.get(caller, id);
  }

  /** Marks every unread received message (or one thread's) read; each sender gets its receipt. */
  async markAllRead(caller: Caller, thread_id?: string): Promise<{ marked: number }> {
    const { store } = this.deps;
    const unread = thread_id
      ? (await store.thread(thread_id)).filter((m) => m.recipient_id === caller.id && !m.read_at)
      : await store.inbox(caller.id, { unreadOnly: true, order: 'asc', limit: 10_000 });
    return { marked: unread.length ? await this.commitRead(caller, unread) : 0 };
  }

  private async commitRead(caller: Caller, messages: MessageRecord[]): Promise<number> {
    const at = nowIso();
    const [marked] = await commit(this.deps, [
      { op: 'markRead', recipient_id: caller.id, ids: messages.map((m) => m.id), at },
      ...messages.map((m) =>
        eventOp(m.sender_id, 'message.read', { message_id: m.id, thread_id: m.thread_id, reader_id: caller.id, read_at: at }),
      ),
    ]);
    return marked;
  }

  async outbox(caller: Caller, q: { limit: number; cursor?: string }): Promise<MessagesPage> {
    const rows = await this.deps.store.outbox(caller.id, { cursorSeq: parseCursor(q.cursor), limit: q.limit + 1 });
    const { page, next_cursor } = pageOf(rows, q.limit);
    return { messages: await this.views(page, caller), next_cursor };
  }

  async thread(caller: Caller, thread_id: string): Promise<{ thread_id: string; messages: Message[]; loop: LoopFlag | null }> {
    const rows = (await this.deps.store.thread(thread_id)).filter((m) => m.sender_id === caller.id || m.recipient_id === caller.id);
    if (rows.length === 0) throw new AmtpError('thread_not_found', 'No thread with that id among your messages.');
    const loop = await this.deps.store.loop(thread_id);
    return {
      thread_id,
      messages: await this.views(await this.markDelivered(caller, rows), caller),
      loop: loop && !loop.cleared_at ? loopView(loop, caller.id) : null,
    };
  }

  /** One entry per peer: conversations are grouped by pair, not by subject. */
  async conversations(caller: Caller): Promise<Conversation[]> {
    const rows = await this.deps.store.conversations(caller.id);
    const last = await this.views(await this.deps.store.messagesBySeq(rows.map((r) => r.last_seq)), caller);
    return rows.flatMap((r) => {
      const message = last.find((m) => m.sender_id === r.peer_id || m.recipient_id === r.peer_id);
      if (!message) return [];
      const peer_name = message.sender_id === r.peer_id ? message.sender_name : message.recipient_name;
      return [
        {
          peer_id: r.peer_id,
          peer_name,
          last_message: message,
          unread_count: Number(r.unread_count),
          message_count: Number(r.message_count),
        },
      ];
    });
  }

  /** The messages exchanged with one peer, either direction, newest first; next_cursor pages back in time. */
  async conversation(caller: Caller, peerRef: string, q: { limit: number; cursor?: string }): Promise<MessagesPage> {
    const peer = await this.peer(peerRef);
    const rows = await this.deps.store.conversation(caller.id, peer.id, { cursorSeq: parseCursor(q.cursor), limit: q.limit + 1 });
    const { page, next_cursor } = pageOf(rows, q.limit);
    return { messages: await this.views(await this.markDelivered(caller, page), caller), next_cursor };
  }

  /** Marks every unread message from one peer read, in one commit; the peer gets its receipts. */
  async markConversationRead(caller: Caller, peerRef: string): Promise<{ marked: number }> {
    const peer = await this.peer(peerRef);
    const unread = (await this.deps.store.inbox(caller.id, { unreadOnly: true, order: 'asc', limit: 10_000 })).filter(
      (m) => m.sender_id === peer.id,
    );
    return { marked: unread.length ? await this.commitRead(caller, unread) : 0 };
  }

  private async peer(ref: string) {
    const peer = await findAgent(this.deps.store, ref);
    if (!peer) throw agentNotFound();
    return peer;
  }

  /** Applies the configured retention (max age, max messages per mailbox). Returns how many were removed. */
  async prune(): Promise<number> {
    await commit(this.deps, [{ op: 'pruneNonces', before: nowIso() }]);
    const { maxAgeDays, maxMessagesPerMailbox } = this.deps.config.retention;
    if (!maxAgeDays && !maxMessagesPerMailbox) return 0;
    const olderThan = maxAgeDays ? new Date(Date.now() - maxAgeDays * 86_400_000).toISOString() : null;
    return untilNoneRemoved(
      async () => (await commit(this.deps, [{ op: 'pruneMessages', olderThan, keepPerMailbox: maxMessagesPerMailbox || null }]))[0],
    );
  }

  /**
   * A sender that publishes a signing key must sign every message; the server verifies before
   * accepting (recipients verify again against their pinned key). Returns the signature to store.
   */
  private checkSignature(sender: Caller, recipient: AgentRecord, input: SendInput) {
    const { ed25519_signature, sig_nonce, signed_at } = input;
    if (!sender.public_key) {
      if (ed25519_signature)
        throw new AmtpError(
          'invalid_signature',
          'You publish no signing key, so a signature cannot be checked. Publish one with PUT /api/me/keys.',
        );
      return null;
    }
    if (!ed25519_signature || !sig_nonce || !signed_at) {
      throw new AmtpError(
        'signature_required',
        'You publish a signing key, so every message must carry ed25519_signature, sig_nonce and signed_at (SPEC §12).',
      );
    }
    const window = this.deps.config.signatureWindowSeconds * 1000;
    const at = Date.parse(signed_at);
    if (!Number.isFinite(at) || Math.abs(Date.now() - at) > window) {
      throw new AmtpError(
        'stale_signature',
        `signed_at must be within ${window / 1000} s of the server's clock (now ${nowIso()}). Check your clock and sign again.`,
      );
    }
    const fields = { ...input, sender_id: sender.id, recipient_id: recipient.id, sig_nonce, signed_at };
    // amtp-sig-1 binds this server's ids; amtp-sig-2 the full addresses (SPEC §19.7), as mail to or from another server needs.
    const addresses = { sender_address: this.addressOf(sender), recipient_address: this.addressOf(recipient) };
    if (
      !verifyMessageSignatureNode(fields, ed25519_signature, sender.public_key) &&
      !verifyMessageSignatureNode({ ...fields, ...addresses }, ed25519_signature, sender.public_key)
    ) {
      throw new AmtpError(
        'invalid_signature',
        'The signature does not verify against your published signing key. Sign the canonical fields (SPEC §12) with the recipient’s agent id.',
      );
    }
    return { ed25519_signature, sig_nonce, signed_at, nonceExpires: new Date(at + window).toISOString() };
  }

  /** An agent's full address: a remote agent's mirror is named by it; a local agent's is its name at this server's domain. */
  addressOf(agent: Pick<AgentRecord, 'name'>): string {
    return addressOf(agent, serverDomain(this.deps.config));
  }

  /** The size rule every message meets (also the A2A bridge's outbound requests). */
  assertSize(input: Pick<SendInput, 'subject' | 'body' | 'payload' | 'sealed'>): void {
    if (input.sealed && (input.subject !== undefined || input.body !== undefined || input.payload !== undefined)) {
      throw new AmtpError('invalid_request', 'A sealed message carries its subject, body and payload inside "sealed" only.');
    }
    const size = Buffer.byteLength(
      JSON.stringify([input.subject ?? null, input.body ?? null, input.payload ?? null, input.sealed?.ciphertext ?? null]),
    );
    const max = this.deps.config.limits.maxMessageBytes;
    if (size > max) {
      throw new AmtpError('too_large', `The message is ${size} bytes; the limit is ${max}. Shorten it or send it in parts.`, {
        limit: max,
      });
    }
  }

  /** A reply stays in its thread only between the same two agents. */
  private async threadOf(replyToId: string, senderId: string, recipientId: string): Promise<string> {
    const original = await this.deps.store.message(replyToId);
    const pair = original && [original.sender_id, original.recipient_id].sort().join();
    if (!original || pair !== [senderId, recipientId].sort().join()) {
      throw new AmtpError('invalid_reply_to', 'reply_to_id must name a message exchanged between you and this recipient.');
    }
    return original.thread_id;
  }

  private async visible(caller: Caller, id: string): Promise<MessageRecord> {
    const message = await this.deps.store.message(id);
    if (!message || (message.sender_id !== caller.id && message.recipient_id !== caller.id)) {
      throw new AmtpError('message_not_found', 'No message with that id among your messages.');
    }
    return message;
  }

  private async markDelivered(caller: Caller, rows: MessageRecord[]): Promise<MessageRecord[]> {
    const fresh = rows.filter((m) => m.recipient_id === caller.id && m.delivered_at === null);
    if (fresh.length === 0) return rows;
    const at = nowIso();
    const receipts = (await this.deliveryReceipts?.(fresh, at)) ?? [];
    await commit(this.deps, [{ op: 'markDelivered', recipient_id: caller.id, ids: fresh.map((m) => m.id), at }, ...receipts]);
    return rows.map((m) => (fresh.includes(m) ? { ...m, delivered_at: at } : m));
  }

  /** The relay statuses of the messages `viewer` sent to remote agents (named by their addresses) among `rows`. */
  private async relaysOf(rows: MessageRecord[], viewer: Caller, names: Map<string, string>): Promise<Map<string, RelayRecord>> {
    const remote = rows.filter((m) => m.sender_id === viewer.id && names.get(m.recipient_id)?.includes('@'));
    if (remote.length === 0) return new Map();
    return new Map((await this.deps.store.relays(remote.map((m) => m.id))).map((r) => [r.message_id, r]));
  }

  /** Messages as handed to `viewer`: names resolved, its own sealed copy only for the sender, MAC'd with its delivery secret. */
  private async views(rows: MessageRecord[], viewer: Caller): Promise<Message[]> {
    const ids = [...new Set(rows.flatMap((m) => [m.sender_id, m.recipient_id]))];
    const names = new Map((await this.deps.store.agentsByIds(ids)).map((a) => [a.id, a.name]));
    const relays = await this.relaysOf(rows, viewer, names);
    return rows.map((m) => {
      const view = withRelay(
        toMessage(m, names, viewer.id, (id) => this.addressOf({ name: names.get(id) ?? 'unknown' })),
        relays.get(m.id),
      );
      // The same MAC as crypto/hmac.ts deliveryMac, computed with OpenSSL: it is on every read path.
      return { ...view, delivery_mac: createHmac('sha256', viewer.delivery_secret).update(canonicalJson(view)).digest('base64url') };
    });
  }
}

/** A message the viewer sent to an agent on another server: how far its relay got (SPEC §19.5). */
function withRelay(view: Omit<Message, 'delivery_mac'>, relay: RelayRecord | undefined): Omit<Message, 'delivery_mac'> {
  if (!relay || view.read_at || view.delivered_at) return view;
  return relay.status === 'failed'
    ? { ...view, status: 'failed', failed_reason: relay.reason ?? 'the remote server refused it' }
    : { ...view, status: relay.status };
}

function toMessage(
  m: MessageRecord,
  names: Map<string, string>,
  viewerId: string,
  address: (id: string) => string,
): Omit<Message, 'delivery_mac'> {
  return {
    id: m.id,
    thread_id: m.thread_id,
    sender_id: m.sender_id,
    sender_name: names.get(m.sender_id) ?? 'unknown',
    recipient_id: m.recipient_id,
    recipient_name: names.get(m.recipient_id) ?? 'unknown',
    sender_address: address(m.sender_id),
    recipient_address: address(m.recipient_id),
    subject: m.subject,
    body: m.body,
    scope: m.scope,
    intent: m.intent,
    payload: m.payload,
    reply_to_id: m.reply_to_id,
    client_id: m.client_id,
    status: m.read_at ? 'read' : m.delivered_at ? 'delivered' : 'queued',
    created_at: m.created_at,
    delivered_at: m.delivered_at,
    read_at: m.read_at,
    sealed: m.sealed,
    ...(viewerId === m.sender_id && m.sealed_for_sender ? { sealed_for_sender: m.sealed_for_sender } : {}),
    ed25519_signature: m.ed25519_signature,
    sig_nonce: m.sig_nonce,
    signed_at: m.signed_at,
    ...(m.origin === 'human' ? { origin: 'human' as const } : {}),
    ...attentionView(m),
    untrusted: true,
  };
}

function messageRecord(
  id: string,
  thread_id: string,
  sender: Caller,
  recipient: { id: string },
  input: SendInput,
  signature: { ed25519_signature: string; sig_nonce: string; signed_at: string } | null,
  now: number,
): Omit<MessageRecord, 'seq'> {
  return {
    id,
    thread_id,
    sender_id: sender.id,
    recipient_id: recipient.id,
    subject: input.subject ?? null,
    body: input.body ?? null,
    scope: input.scope,
    intent: input.intent ?? null,
    payload: input.payload ?? null,
    reply_to_id: input.reply_to_id ?? null,
    client_id: input.client_id ?? null,
    sealed: input.sealed ?? null,
    sealed_for_sender: input.sealed_for_sender ?? null,
    ed25519_signature: signature?.ed25519_signature ?? null,
    sig_nonce: signature?.sig_nonce ?? null,
    signed_at: signature?.signed_at ?? null,
    // The config's clock (the system clock in production), so the loop breaker's window and the
    // message times agree when a test drives time.
    created_at: new Date(now).toISOString(),
    delivered_at: null,
    read_at: null,
    origin: input.origin ?? null,
  };
}

const accepted = (m: MessageRecord): SendOutput => ({ id: m.id, status: 'queued', thread_id: m.thread_id, created_at: m.created_at });
