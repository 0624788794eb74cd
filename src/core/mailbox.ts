/**
 * The domain core: every rule of the mailbox lives here, once. REST routes, MCP tools, the CLI and the
 * web UI are adapters that translate to and from these calls.
 */
import type { Config } from '../config.js';
import type { Store } from '../store/types.js';
import { A2AOutbound, type A2ATransport } from './a2a-outbound.js';
import { A2ATasks } from './a2a-tasks.js';
import { Admin } from './admin.js';
import { Attention } from './attention.js';
import { Audit } from './audit.js';
import { Capabilities } from './capabilities.js';
import { Consent } from './consent.js';
import { DeadlineRules, ReleaseRules } from './deadlines.js';
import { Events } from './events.js';
import { Guard } from './guard.js';
import { Federation, type FederationTransport } from './federation.js';
import type { CoreDeps } from './context.js';
import { Identity } from './identity.js';
import { Messaging } from './messaging.js';
import { Notifier } from './notifier.js';
import { Outbox } from './outbox.js';
import { RateLimiter } from './rate-limit.js';
import { ServerKey } from './server-key.js';
import { Webhooks, type WebhookTransport } from './webhooks.js';

/** Without a federation transport (operator commands, unit tests), remote servers are unreachable. */
const unreachable: FederationTransport = {
  request: () => Promise.reject(new Error('this process does not reach other servers')),
};

export class Mailbox {
  readonly identity: Identity;
  readonly consent: Consent;
  readonly capabilities: Capabilities;
  readonly messaging: Messaging;
  /** Grant limits, budgets, the loop breaker and the leak guard (SPEC §17). */
  readonly guard: Guard;
  readonly audit: Audit;
  readonly events: Events;
  readonly webhooks: Webhooks;
  /** Digest, deadlines, quiet hours, processed receipts (issue 18). */
  readonly attention: Attention;
  /** Every kind of delivery's queue, worked by the delivery workers (src/delivery/worker.ts). */
  readonly outbox: Outbox;
  readonly notifier: Notifier;
  /** Agents on other servers (SPEC §19): discovery, signed relays, what other servers send. */
  readonly federation: Federation;
  /** Operator commands (`amtp admin`); no API route reaches them. */
  readonly admin: Admin;
  /** The A2A bridge: tasks in (A2A SendMessage → messages), requests out (outbox kind `a2a`), the key that signs AgentCards. */
  readonly a2aTasks: A2ATasks;
  readonly a2aOutbound: A2AOutbound;
  readonly serverKey: ServerKey;

  constructor(
    readonly store: Store,
    readonly config: Config,
    private readonly transport: WebhookTransport,
    private readonly a2aTransport: A2ATransport = noA2ATransport,
    federationTransport: FederationTransport = unreachable,
  ) {
    this.notifier = new Notifier(store.broadcast);
    const deps: CoreDeps = { store, config, notifier: this.notifier, limiter: new RateLimiter() };
    this.guard = new Guard(deps);
    this.consent = new Consent(deps, this.guard);
    this.capabilities = new Capabilities(deps);
    this.messaging = new Messaging(deps, this.consent, this.capabilities, this.guard);
    this.audit = new Audit(deps);
    this.events = new Events(deps, this.messaging);
    this.webhooks = new Webhooks(deps, this.events, transport);
    this.a2aTasks = new A2ATasks(deps, this.messaging);
    this.a2aOutbound = new A2AOutbound(deps, this.messaging, a2aTransport);
    this.attention = new Attention(deps, this.messaging);
    this.federation = new Federation(deps, this.consent, this.messaging, federationTransport);
    this.consent.remoteRefs = this.federation;
    this.serverKey = new ServerKey(() => this.federation.key());
    this.messaging.deliveryReceipts = (delivered, at) => this.federation.deliveryReceiptOps(delivered, at);
    this.outbox = new Outbox(deps, {
      webhook: this.webhooks,
      a2a: this.a2aOutbound,
      deadline: new DeadlineRules(deps),
      release: new ReleaseRules(deps),
      federation: this.federation,
    });
    this.admin = new Admin(deps);
    this.identity = new Identity(deps, (caller) => this.webhooks.notices(caller));
  }

  /** Periodic housekeeping: message retention and the event replay window. */
  async maintain(): Promise<{ messages: number; events: number }> {
    return { messages: await this.messaging.prune(), events: await this.events.prune() };
  }

  async close(): Promise<void> {
    this.notifier.close();
    await this.transport.close?.();
    await this.a2aTransport.close?.();
    await this.store.close();
  }
}

/** Without a transport (operator commands), A2A requests are refused and queued ones wait for a server. */
const noA2ATransport: A2ATransport = {
  check: () => Promise.reject(new Error('this process sends no A2A requests')),
  send: () => Promise.reject(new Error('this process sends no A2A requests')),
};
