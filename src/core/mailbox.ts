/**
 * The domain core: every rule of the mailbox lives here, once. REST routes, MCP tools, the CLI and the
 * web UI are adapters that translate to and from these calls.
 */
import type { Config } from '../config.js';
import type { Store } from '../store/types.js';
import { Admin } from './admin.js';
import { Audit } from './audit.js';
import { Capabilities } from './capabilities.js';
import { Consent } from './consent.js';
import { Events } from './events.js';
import { Federation, type FederationTransport } from './federation.js';
import type { CoreDeps } from './context.js';
import { Identity } from './identity.js';
import { Messaging } from './messaging.js';
import { Notifier } from './notifier.js';
import { Outbox } from './outbox.js';
import { RateLimiter } from './rate-limit.js';
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
  readonly audit: Audit;
  readonly events: Events;
  readonly webhooks: Webhooks;
  /** Every kind of delivery's queue, worked by the delivery workers (src/delivery/worker.ts). */
  readonly outbox: Outbox;
  readonly notifier: Notifier;
  /** Agents on other servers (SPEC §16): discovery, signed relays, what other servers send. */
  readonly federation: Federation;
  /** Operator commands (`amtp admin`); no API route reaches them. */
  readonly admin: Admin;

  constructor(
    readonly store: Store,
    readonly config: Config,
    private readonly transport: WebhookTransport,
    federationTransport: FederationTransport = unreachable,
  ) {
    this.notifier = new Notifier(store.broadcast);
    const deps: CoreDeps = { store, config, notifier: this.notifier, limiter: new RateLimiter() };
    this.consent = new Consent(deps);
    this.capabilities = new Capabilities(deps);
    this.messaging = new Messaging(deps, this.consent, this.capabilities);
    this.audit = new Audit(deps);
    this.events = new Events(deps, this.messaging);
    this.webhooks = new Webhooks(deps, this.events, transport);
    this.federation = new Federation(deps, this.consent, this.messaging, federationTransport);
    this.consent.remoteRefs = this.federation;
    this.messaging.deliveryReceipts = (delivered, at) => this.federation.deliveryReceiptOps(delivered, at);
    this.outbox = new Outbox(deps, { webhook: this.webhooks, federation: this.federation });
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
    await this.store.close();
  }
}
