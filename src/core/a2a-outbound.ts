/**
 * The A2A bridge, outbound (docs/SPEC.md, "A2A binding"): an AMTP agent writes to an external A2A
 * agent by its AgentCard URL. The external agent is stood for by a local agent row (one per card
 * URL): the request is an AMTP message to it, delivered by the outbox (kind `a2a`, one queue per
 * external agent, the webhook target rules), and the answer comes back from it into the sender's
 * inbox, in the request's thread.
 */
import { randomBytes } from 'node:crypto';
import { AmtpError } from '../protocol/errors.js';
import type { A2ASendInput, A2ASendOutput } from '../protocol/schemas.js';
import { StoreError, type AgentRecord, type DeliveryRecord, type MessageRecord, type WriteOp } from '../store/types.js';
import { commit, eventOp, type Caller, type CoreDeps } from './context.js';
import { hashSecret, newAgentId, newApiKey, newDeliverySecret, newMessageId, newThreadId, nowIso } from './ids.js';
import type { Messaging } from './messaging.js';
import { claimOp, recordOp, retryAt, type OutboxKindRules } from './outbox.js';

/** What an external A2A agent answered: a message, or a task (possibly not finished). */
export interface A2AAnswer {
  /** The agent's name, from its card. */
  agent_name: string;
  /** A2A task state, lowercase (`completed`, `working`, …), or null for a plain message answer. */
  state: string | null;
  task_id: string | null;
  context_id: string | null;
  /** The text parts, joined by blank lines. */
  text: string | null;
  /** The data parts' values. */
  data: unknown[];
  /** A JSON-RPC error the agent answered with (an answer, not retried). */
  error: { code: number; message: string } | null;
}

export interface A2AOutboundRequest {
  message_id: string;
  subject: string | null;
  body: string | null;
  payload: unknown;
}

export interface A2ATransport {
  /** Throws `invalid_agent_card_url` when the URL (or what its host resolves to) is not allowed. */
  check(cardUrl: string): Promise<void>;
  /** Resolves the card and sends the request; rejects when the agent cannot be reached (retried). */
  send(cardUrl: string, request: A2AOutboundRequest): Promise<A2AAnswer>;
  close?(): Promise<void>;
}

export class A2AOutbound implements OutboxKindRules {
  constructor(
    private readonly deps: CoreDeps,
    private readonly messaging: Messaging,
    private readonly transport: A2ATransport,
  ) {}

  async send(caller: Caller, input: A2ASendInput): Promise<A2ASendOutput> {
    const { store, config, limiter } = this.deps;
    if (input.body === undefined && input.payload === undefined) {
      throw new AmtpError(
        'invalid_request',
        'Give the A2A agent something to read: a body (a text part), a payload (a data part), or both.',
      );
    }
    this.messaging.assertSize(input);
    const previous = input.client_id ? await store.messageByClientId(caller.id, input.client_id) : null;
    if (previous) return this.accepted(previous);
    limiter.take(`send:${caller.id}`, config.limits.sendPerMinute, 60_000, 'messages');
    await this.transport.check(input.agent_card_url);
    const peer = await this.peerFor(input.agent_card_url);
    limiter.take(`pair:${caller.id}:${peer.id}`, config.limits.pairPerMinute, 60_000, `messages to ${input.agent_card_url}`);
    const at = nowIso();
    const message: Omit<MessageRecord, 'seq'> = {
      ...blankMessage(caller.id, peer.id, at),
      subject: input.subject ?? null,
      body: input.body ?? null,
      payload: input.payload ?? null,
      client_id: input.client_id ?? null,
    };
    try {
      const [inserted] = await commit(this.deps, [
        { op: 'insertMessage', message },
        {
          op: 'enqueue',
          delivery: {
            id: message.id,
            kind: 'a2a',
            agent_id: message.recipient_id,
            queue: message.recipient_id,
            message_id: message.id,
            not_before: at,
            created_at: at,
          },
        },
      ]);
      return this.accepted(inserted);
    } catch (error) {
      const winner =
        error instanceof StoreError && error.kind === 'duplicate' && input.client_id
          ? await store.messageByClientId(caller.id, input.client_id)
          : null;
      if (winner) return this.accepted(winner);
      throw error;
    }
  }

  /** The outbox's schedule for A2A requests: the webhooks' (AMTP_WEBHOOK_RETRY_SCHEDULE). */
  retrySeconds(): readonly number[] {
    return this.deps.config.webhooks.retrySeconds;
  }

  /** Sends one request; its answer (or, once retries are exhausted, the failure) lands in the sender's inbox. */
  async attempt(d: DeliveryRecord, leaseMs: number): Promise<DeliveryRecord | null> {
    const { store } = this.deps;
    const [request, peer] = await Promise.all([store.message(d.id), store.a2aPeer(d.agent_id)]);
    if (!request || !peer) {
      await commit(this.deps, [recordOp(d, 'dead', null, 'the request or its A2A agent no longer exists')]);
      return null;
    }
    let answer: A2AAnswer;
    try {
      answer = await this.transport.send(peer.card_url, {
        message_id: request.id,
        subject: request.subject,
        body: request.body,
        payload: request.payload,
      });
    } catch (e) {
      const error = (e as Error).message;
      const notBefore = retryAt(this.retrySeconds(), d);
      if (notBefore) await commit(this.deps, [recordOp(d, 'pending', null, error, notBefore)]);
      else
        await commit(this.deps, [
          recordOp(d, 'dead', null, error),
          ...this.answerOps(request, failureText(d, error), { a2a: { state: 'failed', error } }),
        ]);
      return null;
    }
    const at = nowIso();
    const results = await commit(this.deps, [
      recordOp(d, 'delivered', null, answer.error?.message ?? null, at),
      { op: 'markDelivered', recipient_id: peer.agent_id, ids: [request.id], at },
      { op: 'updateAgent', id: peer.agent_id, patch: { display_name: answer.agent_name.slice(0, 100) || null } },
      ...this.answerOps(request, answerText(answer), answerPayload(answer)),
      claimOp(this.deps.config.clock.now(), 1, leaseMs, d.agent_id),
    ]);
    return (results.at(-1) as DeliveryRecord[])[0] ?? null;
  }

  /** The answer as a message from the external agent's stand-in to the sender, in the request's thread. */
  private answerOps(request: MessageRecord, body: string | null, payload: unknown): WriteOp[] {
    const at = nowIso();
    const message = {
      ...blankMessage(request.recipient_id, request.sender_id, at),
      thread_id: request.thread_id,
      reply_to_id: request.id,
      subject: request.subject && `Re: ${request.subject}`.slice(0, 300),
      body,
      payload,
    };
    return [
      { op: 'insertMessage', message },
      eventOp(request.sender_id, 'message.received', {
        message_id: message.id,
        thread_id: message.thread_id,
        sender_id: message.sender_id,
      }),
    ];
  }

  /** The agent row standing for the external agent at `cardUrl`, created on first use. */
  private async peerFor(cardUrl: string): Promise<AgentRecord> {
    const { store } = this.deps;
    const existing = await store.a2aPeerByUrl(cardUrl);
    if (existing) return (await store.agentById(existing.agent_id))!;
    const agent: AgentRecord = {
      id: newAgentId(),
      // Random, so nobody can register the name first; the URL it stands for is in a2a_peers.
      name: `a2a-${randomBytes(12).toString('hex')}`,
      display_name: new URL(cardUrl).host.slice(0, 100),
      public_key: null,
      encryption_key: null,
      // Nobody holds a key for it: it can only be written to through the bridge.
      api_key_hash: hashSecret(newApiKey()),
      delivery_secret: newDeliverySecret(),
      key_rotation: null,
      keys_reset_at: null,
      suspended_at: null,
      created_at: nowIso(),
    };
    try {
      await commit(this.deps, [{ op: 'createA2APeer', agent, card_url: cardUrl }]);
      return agent;
    } catch (error) {
      // Created concurrently by another request: use that one.
      const winner = error instanceof StoreError ? await store.a2aPeerByUrl(cardUrl) : null;
      if (!winner) throw error;
      return (await store.agentById(winner.agent_id))!;
    }
  }

  private async accepted(m: MessageRecord): Promise<A2ASendOutput> {
    const peer = await this.deps.store.agentById(m.recipient_id);
    return {
      id: m.id,
      status: 'queued',
      thread_id: m.thread_id,
      created_at: m.created_at,
      recipient_id: m.recipient_id,
      recipient_name: peer?.name ?? 'unknown',
    };
  }
}

function blankMessage(sender_id: string, recipient_id: string, at: string): Omit<MessageRecord, 'seq'> {
  return {
    id: newMessageId(),
    thread_id: newThreadId(),
    sender_id,
    recipient_id,
    subject: null,
    body: null,
    scope: 'message',
    intent: null,
    payload: null,
    reply_to_id: null,
    client_id: null,
    sealed: null,
    sealed_for_sender: null,
    ed25519_signature: null,
    sig_nonce: null,
    signed_at: null,
    created_at: at,
    delivered_at: null,
    read_at: null,
  };
}

function answerText(a: A2AAnswer): string | null {
  if (a.error) return `The A2A agent answered with an error (${a.error.code}): ${a.error.message}`;
  return a.text;
}

function answerPayload(a: A2AAnswer): unknown {
  return {
    a2a: { state: a.error ? 'failed' : a.state, task_id: a.task_id, context_id: a.context_id, ...(a.error ? { error: a.error } : {}) },
    data: a.data,
  };
}

const failureText = (d: DeliveryRecord, error: string) =>
  `Your message could not be delivered to the A2A agent after ${d.attempts + 1} attempts (last: ${error}).`;
