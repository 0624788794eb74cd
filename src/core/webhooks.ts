/**
 * Webhooks: one endpoint per agent, Standard Webhooks signatures, and the rules of the durable
 * outbox — at-least-once, in event order per agent while deliveries succeed (a failed one steps
 * aside and is retried on its own; bodies carry the event's seq), the same webhook-id on every retry,
 * exponential backoff with jitter, 410 Gone disables, exhausted retries dead-letter (and disable
 * the endpoint with a notice unless it accepted later events).
 */
import { generateWebhookSecret, webhookHeaders } from '../crypto/standard-webhooks.js';
import { AmtpError } from '../protocol/errors.js';
import { EventType, type Delivery, type Webhook, type WebhookInput } from '../protocol/schemas.js';
import type { DeliveryRecord, WebhookRecord, WriteOp } from '../store/types.js';
import { auditOp, commit, type Caller, type CoreDeps } from './context.js';
import type { Events } from './events.js';
import { nowIso } from './ids.js';
import { claimOp, recordOp, retryAt, type OutboxKindRules } from './outbox.js';

export interface WebhookTransport {
  /** Throws `invalid_webhook_url` when the URL (or what its host resolves to) is not allowed. */
  check(url: string): Promise<void>;
  /** Posts once; resolves with the status, or rejects on a refused or failed connection. */
  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number }>;
  /** Releases kept-alive connections. */
  close?(): Promise<void>;
}

const notFound = () => new AmtpError('webhook_not_found', 'No webhook is configured. Set one with PUT /api/me/webhook.');

export class Webhooks implements OutboxKindRules {
  constructor(
    private readonly deps: CoreDeps,
    private readonly events: Events,
    private readonly transport: WebhookTransport,
  ) {}

  /** Sets (or replaces) the endpoint. A new signing secret is issued every time and shown once. */
  async set(caller: Caller, input: WebhookInput): Promise<Webhook & { secret: string }> {
    await this.transport.check(input.url);
    const existing = await this.deps.store.webhook(caller.id);
    const at = nowIso();
    const webhook: WebhookRecord = {
      agent_id: caller.id,
      url: input.url,
      secret: generateWebhookSecret(),
      events: input.events ?? EventType.options,
      enabled: true,
      disabled_reason: null,
      created_at: existing?.created_at ?? at,
      updated_at: at,
    };
    await commit(this.deps, [
      { op: 'putWebhook', webhook },
      auditOp(caller.id, 'webhook.changed', null, { url: webhook.url, events: webhook.events }),
    ]);
    return { ...(await this.view(webhook)), secret: webhook.secret };
  }

  async get(caller: Caller): Promise<Webhook> {
    const webhook = await this.deps.store.webhook(caller.id);
    if (!webhook) throw notFound();
    return this.view(webhook);
  }

  async remove(caller: Caller): Promise<{ deleted: boolean }> {
    const [deleted] = await commit(this.deps, [
      { op: 'deleteWebhook', agent_id: caller.id },
      auditOp(caller.id, 'webhook.changed', null, { deleted: true }),
    ]);
    return { deleted };
  }

  /** Sends a signed `webhook.test` ping now, outside the outbox, and reports what the endpoint answered. */
  async test(caller: Caller): Promise<{ ok: boolean; status: number | null; error: string | null }> {
    const webhook = await this.deps.store.webhook(caller.id);
    if (!webhook) throw notFound();
    const id = `evt_test_${Date.now().toString(36)}`;
    const body = JSON.stringify({ id, type: 'webhook.test', timestamp: nowIso(), agent_id: caller.id, data: {} });
    try {
      const { status } = await this.transport.post(webhook.url, body, signedHeaders(webhook.secret, id, body));
      return { ok: status >= 200 && status < 300, status, error: null };
    } catch (error) {
      return { ok: false, status: null, error: (error as Error).message };
    }
  }

  async deliveries(caller: Caller, q: { status?: Delivery['status']; limit: number }): Promise<Delivery[]> {
    return (await this.deps.store.deliveries(caller.id, q)).map(deliveryView);
  }

  async redeliver(caller: Caller, id: string): Promise<{ queued: true }> {
    const [queued] = await commit(this.deps, [{ op: 'redeliver', agent_id: caller.id, id, at: nowIso() }]);
    if (!queued)
      throw new AmtpError('webhook_not_found', 'No finished delivery with that id. List them with GET /api/me/webhook/deliveries.');
    return { queued: true };
  }

  /** What the agent should hear about its webhook (shown by whoami / GET /api/me). */
  async notices(caller: Caller): Promise<string[]> {
    const webhook = await this.deps.store.webhook(caller.id);
    if (!webhook || webhook.enabled) return [];
    const waiting = await this.deps.store.pendingDeliveries(caller.id);
    return [
      `Your webhook ${webhook.url} was disabled: ${webhook.disabled_reason}. ${waiting} deliveries are waiting; fix the endpoint and PUT /api/me/webhook again to resume.`,
    ];
  }

  /** The outbox's schedule for webhook deliveries (AMTP_WEBHOOK_RETRY_SCHEDULE). */
  retrySeconds(): readonly number[] {
    return this.deps.config.webhooks.retrySeconds;
  }

  /**
   * One delivery attempt and its consequences. After a success, the same commit claims that
   * webhook's next delivery, returned for the caller to attempt at once (one commit per delivery).
   */
  async attempt(d: DeliveryRecord, leaseMs: number): Promise<DeliveryRecord | null> {
    const { store } = this.deps;
    const [webhook, agent, [event]] = await Promise.all([
      store.webhook(d.agent_id),
      store.agentById(d.agent_id),
      store.events(d.agent_id, { afterSeq: d.event_seq - 1, limit: 1 }),
    ]);
    if (!webhook || !agent || !event || event.seq !== d.event_seq) {
      await this.finish(d, 'dead', null, 'event or webhook no longer exists');
      return null;
    }
    const expanded = await this.events.expand(agent, event);
    const body = JSON.stringify({
      id: expanded.id,
      seq: expanded.seq,
      type: expanded.type,
      timestamp: expanded.created_at,
      agent_id: agent.id,
      data: expanded.data,
    });
    let status: number | null = null;
    let error: string | null = null;
    try {
      status = (await this.transport.post(webhook.url, body, signedHeaders(webhook.secret, event.id, body))).status;
    } catch (e) {
      error = (e as Error).message;
    }
    if (status !== null && status >= 200 && status < 300) {
      const results = await this.finish(d, 'delivered', status, null, undefined, [
        ...this.events.deliveredOps(agent, [expanded]),
        claimOp(this.deps.config.clock.now(), 1, leaseMs, d.agent_id),
      ]);
      return (results.at(-1) as DeliveryRecord[])[0] ?? null;
    }
    if (status === 410) await this.finish(d, 'pending', status, 'endpoint answered 410 Gone', 'the endpoint answered 410 Gone');
    else await this.retryOrGiveUp(d, status, error ?? `endpoint answered ${status}`);
    return null;
  }

  /**
   * A failed delivery has stepped out of its queue's line (src/store/outbox.ts) and waits for its
   * retry. Once its schedule is exhausted it is dead-lettered; the endpoint is disabled too unless it
   * accepted a later event meanwhile (then this one event is the problem, not the endpoint).
   */
  private async retryOrGiveUp(d: DeliveryRecord, status: number | null, error: string): Promise<void> {
    const notBefore = retryAt(this.retrySeconds(), d);
    if (notBefore) return void (await commit(this.deps, [recordOp(d, 'pending', status, error, notBefore)]));
    const endpointWorks = await this.deps.store.webhookDeliveredAfter(d.agent_id, d.event_seq);
    await this.finish(d, 'dead', status, error, endpointWorks ? undefined : `${d.attempts + 1} delivery attempts failed (last: ${error})`);
  }

  /** Records the outcome; with `disableReason`, also disables the webhook (audited, shown as a notice). */
  private async finish(
    d: DeliveryRecord,
    status: DeliveryRecord['status'],
    lastStatus: number | null,
    error: string | null,
    disableReason?: string,
    alsoOps: WriteOp[] = [],
  ): Promise<unknown[]> {
    const at = nowIso();
    return commit(this.deps, [
      recordOp(d, status, lastStatus, error, at),
      ...alsoOps,
      ...(disableReason
        ? [
            { op: 'disableWebhook', agent_id: d.agent_id, reason: disableReason, at } as const,
            auditOp(d.agent_id, 'webhook.changed', null, { disabled: disableReason, by: 'server' }),
          ]
        : []),
    ]);
  }

  private async view(w: WebhookRecord): Promise<Webhook> {
    return {
      url: w.url,
      events: w.events as Webhook['events'],
      enabled: w.enabled,
      disabled_reason: w.disabled_reason,
      pending_deliveries: await this.deps.store.pendingDeliveries(w.agent_id),
      created_at: w.created_at,
      updated_at: w.updated_at,
    };
  }
}

function signedHeaders(secret: string, id: string, body: string): Record<string, string> {
  return {
    ...webhookHeaders(secret, id, Math.floor(Date.now() / 1000), body),
    'content-type': 'application/json',
    'user-agent': 'agent2agent-webhooks/1',
  };
}

const deliveryView = (d: DeliveryRecord): Delivery => ({
  id: d.id,
  event_seq: d.event_seq,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.next_attempt_at,
  last_status: d.last_status,
  last_error: d.last_error,
  created_at: d.created_at,
  updated_at: d.updated_at,
});
