/**
 * Federation (SPEC §19): agents on other servers, addressed as handle@domain. A remote agent is
 * mirrored by a local agent row named by its full address (`remote_agents` marks it), so consent,
 * messages and receipts run through the same core as local ones. What concerns a remote agent is an
 * event appended to its mirror; the outbox (kind `federation`, one queue per remote agent) relays
 * it, signed with RFC 9421, to that agent's server. What arrives from another server is verified
 * (signature → time window → nonce → digest → sender addresses) and applied as the mirror of its
 * sender acting here, so every local rule — consent, scopes, blocks, no enumeration — applies as is.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import type { z } from 'zod';
import { randomBytes } from '@noble/hashes/utils.js';
import { fromBase64Url, toBase64Url } from '../crypto/encoding.js';
import { canonicalJson } from '../crypto/jcs.js';
import {
  contentDigest,
  digestMatches,
  HttpSignatureError,
  parseSignature,
  signRequest,
  verifySignature,
  type SignableRequest,
} from '../crypto/http-signature.js';
import { formatAddress, normalizeDomain, parseAddress, type Address } from '../protocol/address.js';
import { AmtpError, agentNotFound, type ErrorCode } from '../protocol/errors.js';
import { MessageId, SendInput } from '../protocol/schemas.js';
import { Envelope, RemoteProfile, ResolveInput } from '../protocol/federation.js';
import { assertJsonInput } from '../protocol/json-input.js';
import { type AgentRecord, type DeliveryRecord, type EventRecord, type MessageRecord, StoreError, type WriteOp } from '../store/types.js';
import { addressOf, federationDomain, serverDomain } from './addresses.js';
import type { Consent } from './consent.js';
import { commit, eventOp, findActiveAgent, type Caller, type CoreDeps } from './context.js';
import { hashSecret, newAgentId, newApiKey, newDeliverySecret, newEventId, nowIso } from './ids.js';
import type { Messaging } from './messaging.js';
import { claimOp, recordOp, retryAt, type OutboxKindRules } from './outbox.js';

/** How federation requests leave the server: the same SSRF rules as webhooks (src/delivery). */
export interface FederationTransport {
  request(
    method: 'GET' | 'POST',
    url: string,
    body: string | null,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string; headers: Record<string, string> }>;
}

/** A federation request as it arrived (header names in lower case, the body as received). */
export interface InboundRequest {
  method: string;
  /** Path and query, as the request line gave them. */
  path: string;
  headers: Record<string, string>;
  body: string;
}

export const FEDERATION_VERSION = '1';
export const FEDERATION_PATH = '/federation/v1';
/** Covered components of every federation request (SPEC §19.4). */
export const COVERED = ['@method', '@target-uri', 'content-digest', 'content-type', 'amtp-origin'] as const;
const WINDOW_SECONDS = 300;
const CLOCK_SKEW_SECONDS = 60;
const KEY_CACHE_MS = 300_000;
/** Statuses after which a relay is not retried (SPEC §19.5). */
const PERMANENT = new Set([400, 403, 404, 413, 422]);
const MAX_RETRY_AFTER_SECONDS = 86_400;

interface RemoteServer {
  endpoint: string;
  keys: Map<string, Uint8Array>;
  fetchedAt: number;
  /** From the document's Cache-Control max-age (no-store: 0), capped at an hour; 5 minutes without one. */
  ttlMs: number;
}

const fail = (code: ErrorCode, message: string) => new AmtpError(code, message);

export class Federation implements OutboxKindRules {
  private readonly servers = new Map<string, RemoteServer>();
  private signingKey?: { kid: string; secret: Uint8Array; public_key: string };

  constructor(
    private readonly deps: CoreDeps,
    private readonly consent: Consent,
    private readonly messaging: Messaging,
    private readonly transport: FederationTransport,
  ) {}

  /** This server's domain (AMTP_PUBLIC_URL's host), or null when it has no public URL and so does not federate. */
  get domain(): string | null {
    return this.deps.config.publicUrl ? federationDomain(this.deps.config) : null;
  }

  get enabled(): boolean {
    return this.domain !== null && this.deps.config.federation.mode !== 'off';
  }

  /** Whether this server exchanges mail with `domain` under the configured policy. */
  allows(domain: string): boolean {
    const { mode, allowlist, blocklist } = this.deps.config.federation;
    if (!this.enabled || blocklist.includes(domain)) return false;
    return mode === 'open' || allowlist.includes(domain);
  }

  /** The current signing key, generated and stored at first use (instances sharing a database share it). */
  async key(): Promise<{ kid: string; secret: Uint8Array; public_key: string }> {
    if (this.signingKey) return this.signingKey;
    let [current] = (await this.deps.store.serverKeys()).filter((k) => k.current === 1);
    if (!current) {
      const secret = ed25519.utils.randomSecretKey();
      const public_key = toBase64Url(ed25519.getPublicKey(secret));
      const key = {
        kid: `ed25519-${public_key.slice(0, 12)}`,
        public_key,
        secret_key: toBase64Url(secret),
        current: 1 as const,
        created_at: nowIso(),
        retired_at: null,
      };
      await commit(this.deps, [
        { op: 'putServerKey', key },
        {
          op: 'appendServerAudit',
          entry: { at: key.created_at, action: 'federation.key_created', target_id: key.kid, details: { public_key } },
        },
      ]);
      [current] = (await this.deps.store.serverKeys()).filter((k) => k.current === 1);
    }
    this.signingKey = { kid: current!.kid, secret: fromBase64Url(current!.secret_key), public_key: current!.public_key };
    return this.signingKey;
  }

  /**
   * Records the federation policy in the server audit log when it differs from the last one recorded
   * (the policy is configuration: this is how its every change is audited). Run at server start.
   */
  async recordPolicy(): Promise<boolean> {
    const { mode, allowlist, blocklist } = this.deps.config.federation;
    const policy = {
      mode: this.domain ? mode : 'off',
      domain: this.domain,
      allowlist: [...allowlist].sort(),
      blocklist: [...blocklist].sort(),
    };
    const last = (await this.deps.store.serverAuditAll()).filter((e) => e.action === 'federation.policy').at(-1);
    if (last && canonicalJson(last.details) === canonicalJson(policy)) return false;
    await commit(this.deps, [
      { op: 'appendServerAudit', entry: { at: nowIso(), action: 'federation.policy', target_id: null, details: policy } },
    ]);
    return true;
  }

  /** The `federation` object of /.well-known/amtp (SPEC §19.2). */
  async wellKnown(): Promise<Record<string, unknown> | null> {
    if (!this.enabled) return null;
    const keys = (await this.deps.store.serverKeys()).filter((k) => k.current === 1 || k.retired_at === null);
    if (keys.length === 0) keys.push({ ...(await this.key()), secret_key: '', current: 1, created_at: '', retired_at: null });
    return {
      domain: this.domain,
      endpoint: `${this.deps.config.publicUrl}${FEDERATION_PATH}`,
      versions: [FEDERATION_VERSION],
      keys: keys.map((k) => ({ kid: k.kid, alg: 'ed25519', public_key: k.public_key })),
      signature: { algorithm: 'ed25519', covered: COVERED, max_age_seconds: WINDOW_SECONDS },
      limits: { max_message_bytes: this.deps.config.limits.maxMessageBytes, max_request_bytes: this.deps.config.limits.maxRequestBytes },
      policy: this.deps.config.federation.mode,
      spec: 'https://github.com/agent2agent/agent2agent/blob/main/docs/SPEC.md#16-federation',
    };
  }

  // ── addressing ──────────────────────────────────────────────────────────────────────────────────

  /**
   * What an agent reference names, for consent operations: a local agent's own reference (its id,
   * name, or address at this domain) as is, or a remote address resolved at its server and mirrored
   * here (returns the mirror's name). An unknown remote agent, and one that blocked the caller, both
   * answer agent_not_found.
   */
  async localRef(caller: Caller, ref: string): Promise<string> {
    const address = parseAddress(ref);
    if (!address) return ref;
    if (address.domain === this.domain) return address.handle;
    if (!this.domain)
      throw fail(
        'federation_refused',
        'This server does not federate: it has no AMTP_PUBLIC_URL. Agents on other servers cannot be reached from here.',
      );
    if (!this.allows(address.domain)) {
      throw fail(
        'federation_refused',
        `This server does not exchange mail with ${address.domain} (federation policy: ${this.deps.config.federation.mode}). Ask its operator.`,
      );
    }
    const profile = await this.resolveRemote(address, this.addressOf(caller));
    return (await this.mirror(address, profile)).name;
  }

  /** Asks the agent's server for its public profile, as seen by `asker` (SPEC §19.3). */
  private async resolveRemote(address: Address, asker: string): Promise<RemoteProfile> {
    const server = await this.server(address.domain);
    const res = await this.signedPost(`${server.endpoint}/resolve`, { address: formatAddress(address.handle, address.domain), for: asker });
    if (res.status === 404) throw agentNotFound();
    if (res.status === 403)
      throw fail('federation_refused', `${address.domain} refused this server's request. Its operator decides whom it federates with.`);
    if (res.status !== 200)
      throw fail(
        'federation_unavailable',
        `${address.domain} answered ${res.status} (${errorMessage(res.body) ?? 'no error body'}). Try again later.`,
      );
    const profile = RemoteProfile.safeParse(safeJson(res.body));
    if (!profile.success || profile.data.address !== formatAddress(address.handle, address.domain)) {
      throw fail('federation_unavailable', `${address.domain} answered with a malformed profile, or one for another address.`);
    }
    return profile.data;
  }

  /** The local mirror of a remote agent, created or brought up to date with its profile. */
  private async mirror(address: Address, profile: RemoteProfile): Promise<AgentRecord> {
    const name = formatAddress(address.handle, address.domain);
    const existing = await this.deps.store.agentByName(name);
    const at = nowIso();
    if (existing) {
      if (
        existing.public_key !== profile.public_key ||
        existing.encryption_key !== profile.encryption_key ||
        existing.display_name !== profile.display_name
      ) {
        // The origin server is authoritative for its agents' keys; clients still accept a change only with a valid rotation statement.
        const patch = {
          public_key: profile.public_key,
          encryption_key: profile.encryption_key,
          display_name: profile.display_name,
          key_rotation: profile.key_rotation ?? existing.key_rotation,
        };
        await commit(this.deps, [{ op: 'updateAgent', id: existing.id, patch }]);
        return { ...existing, ...patch };
      }
      return existing;
    }
    const agent: AgentRecord = {
      id: newAgentId(),
      name,
      display_name: profile.display_name,
      public_key: profile.public_key,
      encryption_key: profile.encryption_key,
      // A mirror never authenticates: the hash of a key nobody is ever shown.
      api_key_hash: hashSecret(newApiKey()),
      delivery_secret: newDeliverySecret(),
      key_rotation: profile.key_rotation ?? null,
      keys_reset_at: null,
      suspended_at: null,
      created_at: at,
    };
    try {
      await commit(this.deps, [
        { op: 'createAgent', agent },
        { op: 'putRemoteAgent', remote: { agent_id: agent.id, address: name, domain: address.domain, updated_at: at } },
      ]);
      return agent;
    } catch (error) {
      // Another request mirrored it first.
      const winner = await this.deps.store.agentByName(name);
      if (winner) return winner;
      throw error;
    }
  }

  addressOf(agent: AgentRecord): string {
    return addressOf(agent, serverDomain(this.deps.config));
  }

  // ── outbound: the outbox kind `federation` ─────────────────────────────────────────────────────

  retrySeconds(): readonly number[] {
    return this.deps.config.federation.retrySeconds;
  }

  /** Relays one event of a remote agent's mirror to its server; after a success, claims that queue's next one. */
  async attempt(d: DeliveryRecord, leaseMs: number): Promise<DeliveryRecord | null> {
    const { store } = this.deps;
    const [remote, [event]] = await Promise.all([
      store.remoteAgent(d.agent_id),
      store.events(d.agent_id, { afterSeq: d.event_seq - 1, limit: 1 }),
    ]);
    const envelope = remote && event && event.seq === d.event_seq ? await this.envelope(remote.address, event) : null;
    if (!remote || !envelope) {
      await commit(this.deps, [recordOp(d, 'dead', null, 'event or remote agent no longer exists')]);
      return null;
    }
    let status: number | null = null;
    let retryAfter: string | undefined;
    let error: string | null = null;
    try {
      const domain = remote.domain;
      if (!this.allows(domain)) throw fail('federation_refused', `federation with ${domain} is not allowed by this server's policy`);
      const res = await this.signedPost(`${(await this.server(domain)).endpoint}/inbox`, envelope);
      status = res.status;
      retryAfter = res.headers['retry-after'];
      if (status >= 300) error = errorMessage(res.body) ?? `the remote server answered ${status}`;
    } catch (e) {
      error = e instanceof AmtpError && e.code === 'federation_refused' ? e.message : (e as Error).message;
      if (e instanceof AmtpError && e.code === 'federation_refused') status = 403;
    }
    const messageId = envelope.type === 'message' ? (envelope.message!.id as string) : null;
    if (status !== null && status >= 200 && status < 300) {
      const results = await commit(this.deps, [
        recordOp(d, 'delivered', status, null),
        ...(messageId ? [relayOp(messageId, 'relayed', null)] : []),
        claimOp(this.deps.config.clock.now(), 1, leaseMs, d.agent_id),
      ]);
      return (results.at(-1) as DeliveryRecord[])[0] ?? null;
    }
    const reason = error ?? 'the remote server could not be reached';
    const scheduled = status !== null && PERMANENT.has(status) ? null : retryAt(this.retrySeconds(), d);
    const notBefore = scheduled && (retryAfterAt(status, retryAfter) ?? scheduled);
    if (notBefore) {
      await commit(this.deps, [recordOp(d, 'pending', status, reason, notBefore)]);
      return null;
    }
    await commit(this.deps, [recordOp(d, 'dead', status, reason), ...(messageId ? await this.failedOps(messageId, reason) : [])]);
    return null;
  }

  private async failedOps(messageId: string, reason: string): Promise<WriteOp[]> {
    const message = await this.deps.store.message(messageId);
    if (!message) return [];
    return [
      relayOp(messageId, 'failed', reason),
      eventOp(message.sender_id, 'message.failed', { message_id: messageId, thread_id: message.thread_id, reason }),
    ];
  }

  /** The envelope an event of a remote agent's mirror becomes, or null when it no longer applies. */
  private async envelope(to: string, event: EventRecord): Promise<Envelope | null> {
    const { store } = this.deps;
    const data = event.data as Record<string, string>;
    const base = (from: AgentRecord, type: Envelope['type']): Envelope => ({
      v: 1,
      id: event.id,
      type,
      from: this.addressOf(from),
      to,
      profile: this.profileOf(from),
    });
    switch (event.type) {
      case 'contact_request.received': {
        const from = await store.agentById(data.from_id!);
        const request = await store.request(data.request_id!);
        return from && request ? { ...base(from, 'contact_request'), note: request.note, scopes: request.scopes } : null;
      }
      case 'contact_request.approved': {
        const from = await store.agentById(data.by_id!);
        const grant = from && (await store.grant(from.id, event.agent_id));
        return from && grant ? { ...base(from, 'contact_request.approved'), scopes: grant.scopes } : null;
      }
      case 'authorization.revoked': {
        const from = await store.agentById(data.by_id!);
        return from ? base(from, 'authorization.revoked') : null;
      }
      case 'message.received': {
        const m = await store.message(data.message_id!);
        const from = m && (await store.agentById(m.sender_id));
        if (!m || !from) return null;
        const message = {
          id: m.id,
          scope: m.scope,
          subject: m.subject,
          body: m.body,
          intent: m.intent,
          payload: m.payload,
          reply_to_id: m.reply_to_id,
          client_id: m.client_id,
          sealed: m.sealed,
          ed25519_signature: m.ed25519_signature,
          sig_nonce: m.sig_nonce,
          signed_at: m.signed_at,
          created_at: m.created_at,
        };
        return { ...base(from, 'message'), message };
      }
      case 'message.delivered': {
        const from = await store.agentById(data.reader_id!);
        return from ? { ...base(from, 'message.delivered'), message_id: data.message_id!, delivered_at: data.delivered_at! } : null;
      }
      case 'message.read': {
        const from = await store.agentById(data.reader_id!);
        return from ? { ...base(from, 'message.read'), message_id: data.message_id!, read_at: data.read_at! } : null;
      }
    }
    return null;
  }

  /**
   * Delivery receipts for messages from agents on other servers, fetched just now by their local
   * recipient: one event per message on the sender's mirror, relayed like any other (SPEC §19.5).
   */
  async deliveryReceiptOps(delivered: MessageRecord[], at: string): Promise<WriteOp[]> {
    if (!this.enabled) return [];
    const senders = await this.deps.store.agentsByIds([...new Set(delivered.map((m) => m.sender_id))]);
    const remote = new Set(senders.filter((a) => a.name.includes('@')).map((a) => a.id));
    return delivered
      .filter((m) => remote.has(m.sender_id))
      .map(
        (m) =>
          ({
            op: 'appendEvent',
            event: {
              id: newEventId(),
              agent_id: m.sender_id,
              type: 'message.delivered',
              data: { message_id: m.id, reader_id: m.recipient_id, delivered_at: at },
              created_at: at,
            },
          }) as const,
      );
  }

  private profileOf(agent: AgentRecord): RemoteProfile {
    return {
      address: this.addressOf(agent),
      display_name: agent.display_name,
      public_key: agent.public_key,
      encryption_key: agent.encryption_key,
      key_rotation: agent.key_rotation,
    };
  }

  // ── inbound ─────────────────────────────────────────────────────────────────────────────────────

  /** POST /federation/v1/resolve: a local agent's public profile, or 404 for unknown and for "blocked the asker" alike. */
  async resolve(req: InboundRequest): Promise<RemoteProfile> {
    const { origin, body } = await this.verify(req);
    const { address, for: asker } = wire(ResolveInput, body);
    const askerAddress = parseAddress(asker);
    if (!askerAddress || askerAddress.domain !== origin)
      throw fail('federation_origin_mismatch', `"for" must be an address at ${origin}, the origin of this request.`);
    const target = parseAddress(address);
    const local = target && target.domain === this.domain ? await findActiveAgent(this.deps.store, target.handle) : null;
    if (!local || local.name.includes('@')) throw agentNotFound();
    const mirror = await this.deps.store.agentByName(formatAddress(askerAddress.handle, askerAddress.domain));
    if (mirror && (await this.deps.store.isBlocked(local.id, mirror.id))) throw agentNotFound();
    return this.profileOf(local);
  }

  /** POST /federation/v1/inbox: applies one envelope; resolves after its durable commit (the 202). */
  async receive(req: InboundRequest): Promise<{ accepted: true }> {
    const { origin, body } = await this.verify(req);
    const envelope = wire(Envelope, body);
    const from = parseAddress(envelope.from);
    const to = parseAddress(envelope.to);
    if (!from || from.domain !== origin || (envelope.profile && envelope.profile.address !== envelope.from)) {
      throw fail('federation_origin_mismatch', `Every sender address must be at ${origin}, the origin of this request.`);
    }
    const local = to && to.domain === this.domain ? await findActiveAgent(this.deps.store, to.handle) : null;
    if (!local || local.name.includes('@')) throw agentNotFound();
    if (envelope.type === 'contact_request') {
      // Before anything is stored: a stranger server cannot make this one mirror agents without limit.
      const { requestsPerHour } = this.deps.config.federation;
      this.deps.limiter.take(`federation-request:${origin}`, requestsPerHour, 3_600_000, `contact requests from ${origin}`);
    }
    const sender =
      envelope.type === 'contact_request' && envelope.profile
        ? await this.mirror(from, envelope.profile)
        : await this.existingMirror(from, envelope.profile);
    await this.apply(envelope, sender, local);
    return { accepted: true };
  }

  /** The mirror of an agent this server has heard of (its keys refreshed from `profile`); a stranger gets the answer of an unknown agent. */
  private async existingMirror(address: Address, profile: RemoteProfile | undefined): Promise<AgentRecord> {
    const agent = await this.deps.store.agentByName(formatAddress(address.handle, address.domain));
    if (!agent || !(await this.deps.store.remoteAgent(agent.id))) throw agentNotFound();
    return profile ? this.mirror(address, profile) : agent;
  }

  private async apply(e: Envelope, sender: AgentRecord, local: AgentRecord): Promise<void> {
    switch (e.type) {
      case 'contact_request':
        try {
          await this.consent.request(sender, { agent_id: local.id, note: e.note ?? undefined, scopes: e.scopes });
        } catch (error) {
          if (!(error instanceof AmtpError && error.code === 'already_connected')) throw error;
        }
        return;
      case 'contact_request.approved':
        await this.consent.authorize(sender, local.id, e.scopes);
        return;
      case 'authorization.revoked':
        await this.consent.revoke(sender, local.id);
        return;
      case 'message':
        await this.receiveMessage(sender, local, e.message ?? {});
        return;
      case 'message.delivered':
      case 'message.read': {
        const message = e.message_id ? await this.deps.store.message(e.message_id) : null;
        if (!message || message.recipient_id !== sender.id || message.sender_id !== local.id)
          throw new AmtpError('message_not_found', 'No such message between these agents.');
        if (e.type === 'message.read' && !message.read_at) await this.messaging.markRead(sender, message.id);
        if (e.type === 'message.delivered' && !message.delivered_at)
          await commit(this.deps, [{ op: 'markDelivered', recipient_id: sender.id, ids: [message.id], at: nowIso() }]);
        return;
      }
    }
  }

  /**
   * A relayed message, under the id its origin gave it (so receipts and replies name the same message
   * on both servers): sent here by the sender's mirror, through every rule a local send meets.
   * Delivered again (a retry after a lost answer), it is accepted once: the same id from the same sender.
   */
  private async receiveMessage(sender: AgentRecord, local: AgentRecord, m: Record<string, unknown>): Promise<void> {
    const id = MessageId.safeParse(m.id);
    if (!id.success) throw new AmtpError('invalid_request', 'The relayed message needs an id (msg_<32 hex>).');
    const existing = await this.deps.store.message(id.data);
    if (existing) {
      if (existing.sender_id === sender.id && existing.recipient_id === local.id) return;
      throw new AmtpError('invalid_request', 'That message id is taken by another message.');
    }
    const fields = Object.fromEntries(
      ['scope', 'subject', 'body', 'intent', 'payload', 'reply_to_id', 'client_id', 'sealed', 'ed25519_signature', 'sig_nonce', 'signed_at']
        .filter((k) => m[k] !== null && m[k] !== undefined)
        .map((k) => [k, m[k]]),
    );
    const input = SendInput.safeParse({ ...fields, recipient_id: local.id });
    if (!input.success)
      throw new AmtpError(
        'invalid_request',
        `The relayed message is malformed: ${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    await this.messaging.send(sender, input.data, { id: id.data });
  }

  /** SPEC §19.4, in this order: signature (key from the origin's own domain), time window, nonce, digest. Then the body parses. */
  private async verify(req: InboundRequest): Promise<{ origin: string; body: unknown }> {
    if (!this.enabled) throw fail('federation_refused', 'This server does not federate (AMTP_FEDERATION=off, or no AMTP_PUBLIC_URL).');
    const origin = normalizeDomain(req.headers['amtp-origin'] ?? '');
    if (!origin) throw fail('federation_unauthenticated', 'The request must name its origin server in a signed AMTP-Origin header.');
    if (!this.allows(origin)) throw fail('federation_refused', `This server does not federate with ${origin}.`);
    const signable: SignableRequest = { method: req.method, url: `${this.deps.config.publicUrl}${req.path}`, headers: req.headers };
    let parsed;
    try {
      parsed = parseSignature(req.headers, 'amtp');
    } catch (error) {
      if (error instanceof HttpSignatureError)
        throw fail('federation_unauthenticated', `${error.message}. Sign every federation request with RFC 9421 (SPEC §19.4).`);
      throw error;
    }
    const covers = COVERED.every((c) => parsed.components.includes(c));
    if (
      !covers ||
      parsed.params.alg !== 'ed25519' ||
      !parsed.params.keyid ||
      !parsed.params.nonce ||
      parsed.params.created === undefined ||
      parsed.params.expires === undefined
    ) {
      throw fail(
        'federation_unauthenticated',
        `The signature must cover ${COVERED.join(', ')} and carry created, expires, nonce, keyid and alg="ed25519".`,
      );
    }
    const key = await this.originKey(origin, parsed.params.keyid);
    if (!key || !verifySignature(signable, parsed, key)) {
      throw fail(
        'federation_unauthenticated',
        `The signature does not verify against the key "${parsed.params.keyid}" that ${origin} publishes at /.well-known/amtp.`,
      );
    }
    const now = Math.floor(this.deps.config.clock.now() / 1000);
    const { created, expires } = parsed.params;
    if (created > now + CLOCK_SKEW_SECONDS || now - created > WINDOW_SECONDS || expires < now || expires - created > WINDOW_SECONDS) {
      throw fail(
        'federation_stale',
        `The signature was created at ${created}; this server's clock says ${now}, and accepts ${WINDOW_SECONDS} s at most.`,
      );
    }
    try {
      await commit(this.deps, [
        {
          op: 'useNonce',
          sender_id: `server:${origin}`,
          nonce: parsed.params.nonce,
          expires_at: new Date((expires + CLOCK_SKEW_SECONDS) * 1000).toISOString(),
        },
      ]);
    } catch (error) {
      if (error instanceof StoreError && error.kind === 'duplicate')
        throw fail('federation_replayed', 'This signature nonce was already used. Sign every request afresh.');
      throw error;
    }
    if (!digestMatches(req.headers['content-digest'], req.body))
      throw fail('federation_digest_mismatch', 'The body does not match its Content-Digest (sha-256).');
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      throw new AmtpError('invalid_json', 'The federation request body is not JSON.');
    }
    assertJsonInput(body, 'body');
    return { origin, body };
  }

  /** A key the origin publishes, fetched from the origin's own /.well-known/amtp (cached; refetched once for an unknown kid). */
  private async originKey(origin: string, kid: string): Promise<Uint8Array | null> {
    try {
      const cached = await this.server(origin);
      if (cached.keys.has(kid)) return cached.keys.get(kid)!;
      if (Date.now() - cached.fetchedAt < 10_000) return null;
      this.servers.delete(origin);
      return (await this.server(origin)).keys.get(kid) ?? null;
    } catch {
      return null;
    }
  }

  /** The origin's federation endpoint and keys, from https://<domain>/.well-known/amtp. */
  private async server(domain: string): Promise<RemoteServer> {
    const cached = this.servers.get(domain);
    if (cached && Date.now() - cached.fetchedAt < cached.ttlMs) return cached;
    const scheme = this.deps.config.federation.allowHttp ? 'http' : 'https';
    let res;
    try {
      res = await this.transport.request('GET', `${scheme}://${domain}/.well-known/amtp`, null, { accept: 'application/json' });
    } catch (error) {
      throw fail('federation_unavailable', `${domain} could not be reached: ${(error as Error).message}`);
    }
    const doc =
      res.status === 200
        ? (safeJson(res.body) as { federation?: { endpoint?: string; keys?: { kid: string; public_key: string }[] } } | null)
        : null;
    const f = doc?.federation;
    if (!f?.endpoint || !Array.isArray(f.keys))
      throw fail('federation_refused', `${domain} does not federate (its /.well-known/amtp has no federation object).`);
    const server: RemoteServer = {
      endpoint: f.endpoint.replace(/\/+$/, ''),
      keys: new Map(f.keys.map((k) => [k.kid, fromBase64Url(k.public_key)])),
      fetchedAt: Date.now(),
      ttlMs: cacheMs(res.headers['cache-control']),
    };
    this.servers.set(domain, server);
    return server;
  }

  private async signedPost(url: string, payload: unknown) {
    const body = JSON.stringify(payload);
    return this.transport.request('POST', url, body, await this.signedHeaders('POST', url, body));
  }

  /** The headers of a signed federation request (SPEC §19.4). */
  async signedHeaders(method: string, url: string, body: string, now = this.deps.config.clock.now()): Promise<Record<string, string>> {
    const key = await this.key();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-digest': contentDigest(body),
      'amtp-origin': this.domain!,
    };
    const created = Math.floor(now / 1000);
    const params = { created, expires: created + WINDOW_SECONDS, nonce: toBase64Url(randomBytes(16)), alg: 'ed25519', keyid: key.kid };
    return { ...headers, ...signRequest({ method, url, headers }, COVERED, params, key.secret, 'amtp') };
  }
}

/** A server-to-server body against its wire schema (SPEC §19.3, §19.6): a 400 naming each problem. */
function wire<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const summary = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new AmtpError('invalid_request', `Invalid federation request: ${summary}.`);
}

const relayOp = (message_id: string, status: 'relayed' | 'failed', reason: string | null): WriteOp => ({
  op: 'setRelay',
  relay: { message_id, status, reason, updated_at: nowIso() },
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorMessage(body: string): string | null {
  const e = (safeJson(body) as { error?: { code?: string; message?: string } } | null)?.error;
  return e?.code ? `${e.code}: ${e.message ?? ''}` : null;
}

/** HTTP caching of a peer's /.well-known/amtp: max-age (or no-store/no-cache: not cached), capped at an hour. */
function cacheMs(header: string | undefined): number {
  if (!header) return KEY_CACHE_MS;
  if (/no-store|no-cache/i.test(header)) return 0;
  const maxAge = /max-age=(\d+)/i.exec(header);
  return maxAge ? Math.min(Number(maxAge[1]) * 1000, 3_600_000) : KEY_CACHE_MS;
}

/** 429 and 503 name their own retry time (seconds or an HTTP date), capped at a day. */
function retryAfterAt(status: number | null, header: string | undefined): string | null {
  if ((status !== 429 && status !== 503) || !header) return null;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return null;
  return new Date(Date.now() + Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_SECONDS) * 1000).toISOString();
}
