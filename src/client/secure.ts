/**
 * SecureMailbox: the client side of "trust without trusting the server". It signs and seals on send,
 * and on receive verifies the delivery MAC (refusing to hand out anything that fails), verifies the
 * sender's signature against the key pinned on first use, and opens sealed content locally. Private
 * keys never leave this object. Isomorphic: the CLI, the local MCP proxy and the browser use it.
 */
import { Validator } from '@cfworker/json-schema';
import { verifyDeliveryMac } from '../crypto/hmac.js';
import { verifyRotation } from '../crypto/rotation.js';
import { canonicalBytes } from '../crypto/jcs.js';
import { maxSealedPlaintextBytes, openMessage, openMessageWith, sealMessage, type SealedContent } from '../crypto/seal.js';
import { signMessage, signMessageWith, verifyMessageSignature, type Signer } from '../crypto/sign.js';
import { receiptFields, signReceipt, signReceiptWith, verifyReceipt } from '../crypto/receipt.js';
import type { SharedSecret } from '../crypto/webcrypto.js';
import type { MailboxApi, SignatureStatus } from '../protocol/api.js';
import { notAuthorized } from '../protocol/errors.js';
import type * as W from '../protocol/schemas.js';
import { DIGEST_FLAGS as W_FLAGS } from '../protocol/flags.js';
import { AmtpApiError, type AmtpClient } from './client.js';

export interface Identity {
  agent_id: string;
  delivery_secret: string;
  signing?: SigningIdentity;
  encryption?: EncryptionIdentity;
}

/** A private key as its bytes (CLI, SDK), or as an operation on a key no script can read (the browser's WebCrypto). */
export type SigningIdentity = { publicKey: string } & ({ secretKey: string } | { sign: Signer });
export type EncryptionIdentity = { publicKey: string } & ({ secretKey: string } | { sharedSecret: SharedSecret });

export interface PinnedKeys {
  public_key: string | null;
  encryption_key: string | null;
  /** When the pinned signing key took over by a verified rotation; absent for a key pinned on first use. */
  since?: string;
  /** The signing keys this one replaced through verified rotations, oldest first, each with its validity. */
  previous?: { public_key: string; since?: string; until: string }[];
}

/**
 * A message signed this long after a verified rotation still verifies under the old key: a client
 * may sign just before its owner rotates, and the server accepts signatures within its time window.
 */
export const ROTATION_GRACE_MS = 5 * 60_000;

/** The pinned signing keys that were valid at `signedAt`, newest first. */
export function keysValidAt(pin: PinnedKeys, signedAt: string): string[] {
  const t = Date.parse(signedAt);
  const valid = (since: string | undefined, until: string | undefined) =>
    (since === undefined || t >= Date.parse(since)) && (until === undefined || t <= Date.parse(until) + ROTATION_GRACE_MS);
  const chain = [...(pin.previous ?? [])].reverse();
  return [
    ...(pin.public_key && valid(pin.since, undefined) ? [pin.public_key] : []),
    ...chain.filter((k) => valid(k.since, k.until)).map((k) => k.public_key),
  ];
}

/** Where pinned peer keys live (a file for the CLI, browser storage for the UI). */
export interface PinStore {
  get(agentId: string): PinnedKeys | undefined;
  set(agentId: string, keys: PinnedKeys): void;
}

export interface SecureOptions {
  /** Send without sealing even when the recipient publishes an encryption key. */
  plain?: boolean;
  /** Refuse to send in plain text when the recipient publishes no encryption key (unless `plain`). */
  requireSealing?: boolean;
  /** Called with loud warnings (changed keys without a valid rotation statement). */
  onWarning?: (message: string) => void;
  /**
   * The leak guard's scanner (src/core/leak-scan.ts in Node; not in the web bundle). With it, the
   * plaintext of a message to be sealed is scanned when the agent's leak guard is on, and a message
   * with findings goes out marked hold_for_approval, so the server holds it for the human (SPEC §17.4).
   */
  leakScanner?: (text: string) => Promise<string[]>;
}

/** How many sealed digest threads the client opens to add snippets. */
export const DIGEST_OPEN = 20;

export class SecureMailbox implements MailboxApi {
  private readonly status = new WeakMap<W.Message, SignatureStatus>();
  private readonly intentProblems = new WeakMap<W.Message, string>();
  private readonly failures = new WeakMap<W.Message, string>();
  private ownCapabilities?: Promise<W.Capability[]>;
  private readonly profiles = new Map<string, W.AgentProfile>();
  private readonly fetching = new Map<string, Promise<W.AgentProfile>>();
  private limits?: Promise<{ max_message_bytes: number } | null>;
  /** Agents whose keys changed without a valid rotation statement. */
  private readonly distrusted = new Set<string>();

  constructor(
    readonly client: AmtpClient,
    private readonly me: Identity,
    private readonly pins: PinStore,
    private readonly opts: SecureOptions = {},
  ) {}

  /** For a sealed typed message: why its opened payload does not fit this agent's published schema. */
  intentProblemOf = (m: W.Message): string | undefined => this.intentProblems.get(m);

  /** For a message receiveAll could not open or verify: why (its content is withheld). */
  failureOf = (m: W.Message): string | undefined => this.failures.get(m);

  /** How the message's signature checked out against the sender's pinned key. */
  signatureOf = (m: W.Message): SignatureStatus => this.status.get(m) ?? 'not checked';

  // ── pass-through operations ──────────────────────────────────────────────────────────────────
  register = (input: W.RegisterInput) => this.client.register(input);
  whoami = () => this.client.whoami();
  setCapabilities = (c: W.Capability[]) => this.client.setCapabilities(c);
  capabilities = (ref: string) => this.client.capabilities(ref);
  requestContact = (input: W.ContactRequestInput) => this.client.requestContact(input);
  listRequests = (f: { direction?: W.Direction; status?: W.RequestStatus }) => this.client.listRequests(f);
  approve = (id: string, scopes?: string[], limits?: W.GrantLimits) => this.client.approve(id, scopes, limits);
  decline = (id: string) => this.client.decline(id);
  authorize = (ref: string, scopes?: string[], limits?: W.GrantLimits) => this.client.authorize(ref, scopes, limits);
  revoke = (ref: string) => this.client.revoke(ref);
  unblock = (ref: string) => this.client.unblock(ref);
  peers = () => this.client.peers();
  markAllRead = (threadId?: string) => this.client.markAllRead(threadId);
  audit = (q: { limit?: number; cursor?: string }) => this.client.audit(q);
  verifyAudit = () => this.client.verifyAudit();
  /** A2A agents neither verify AMTP signatures nor open sealed mail: this goes as given (the server sends it over TLS). */
  sendA2A = (input: W.A2ASendInput) => this.client.sendA2A(input);

  // ── send: seal, then sign ────────────────────────────────────────────────────────────────────
  async send(input: W.SendInput): Promise<W.SendOutput> {
    return (await this.sendReporting(input)).sent;
  }

  /** Sends, and says how the message was protected: sealed end to end, and signed. */
  async sendReporting(input: W.SendInput): Promise<{ sent: W.SendOutput; sealed: boolean; signed: boolean }> {
    const recipient = await this.recipientProfile(input.recipient_id);
    const scope = input.scope ?? 'message';
    const client_id = input.client_id ?? null;
    // Mail to another server binds full addresses (amtp-sig-2, amtp-seal-2): ids are only this server's.
    const addresses = recipient.remote ? { sender_address: await this.myAddress(), recipient_address: recipient.address } : {};
    const binding = { sender_id: this.me.agent_id, recipient_id: recipient.agent_id, scope, client_id, ...addresses };
    let message: Record<string, unknown> = { ...input, recipient_id: recipient.agent_id, scope };
    const sealed = Boolean(recipient.encryption_key) && !this.opts.plain;
    if (!recipient.encryption_key && !this.opts.plain && this.opts.requireSealing) {
      throw new AmtpApiError(
        0,
        'invalid_request',
        `${recipient.name} publishes no encryption key, so this message cannot be sealed: the server would read it. Send it in plain text only deliberately, with --plain.`,
      );
    }
    if (sealed) {
      if (this.distrusted.has(recipient.agent_id)) {
        throw new AmtpApiError(
          0,
          'invalid_signature',
          `${recipient.name}'s keys changed without a signed rotation statement; refusing to seal to them. Verify with them out of band, then re-pin.`,
        );
      }
      const content = { subject: input.subject ?? null, body: input.body ?? null, payload: input.payload ?? null };
      await this.assertSealable(content);
      const reasons = await this.leakFindings(content);
      if (reasons.length) message = { ...message, hold_for_approval: { reasons } };
      const { subject: _s, body: _b, payload: _p, ...rest } = message;
      message = {
        ...rest,
        sealed: sealMessage(content, recipient.encryption_key!, binding),
        ...(this.me.encryption ? { sealed_for_sender: sealMessage(content, this.me.encryption.publicKey, binding) } : {}),
      };
    }
    if (this.me.signing) {
      const fields = {
        ...(message as unknown as W.SendInput),
        sender_id: this.me.agent_id,
        recipient_id: recipient.agent_id,
        scope,
        client_id,
        ...addresses,
      } as never;
      const key = this.me.signing;
      const signature = 'sign' in key ? await signMessageWith(fields, key.sign) : signMessage(fields, key.secretKey);
      message = { ...message, ...signature };
    }
    return { sent: await this.client.send(message as W.SendInput), sealed, signed: Boolean(this.me.signing) };
  }

  /**
   * The leak guard on the plaintext, before sealing (the server cannot read sealed content): the
   * agent's own API key and delivery secret are refused outright; the scanner's findings, when the
   * agent's policy is on, are returned as the reasons to hold the message.
   */
  private async leakFindings(content: SealedContent): Promise<string[]> {
    const text = [content.subject ?? '', content.body ?? '', content.payload === null ? '' : JSON.stringify(content.payload)].join('\n');
    const own = [this.client.apiKey, this.me.delivery_secret].filter((s): s is string => Boolean(s));
    if (own.some((secret) => text.includes(secret))) {
      const message =
        'The message contains your own API key or delivery secret, so it was not sent. Remove it; if it leaked anywhere, rotate it.';
      throw new AmtpApiError(422, 'secret_blocked', message, { error: { code: 'secret_blocked', message } });
    }
    if (!this.opts.leakScanner || !(await this.client.guard()).leak_guard) return [];
    return this.opts.leakScanner(text);
  }

  private address?: Promise<string>;
  /** This agent's full address, as its server names it (fetched once). */
  private myAddress(): Promise<string> {
    return (this.address ??= this.client.whoami().then((me) => me.address));
  }

  /** The size limit, checked on the plaintext before sealing, so the refusal names what the user wrote. */
  private async assertSealable(content: SealedContent): Promise<void> {
    const size = canonicalBytes(content).length;
    this.limits ??= this.client.serverInfo().then(
      (info) => info.limits,
      () => null,
    );
    const limits = await this.limits;
    if (!limits) return; // the server checks the sealed size anyway
    const ceiling = maxSealedPlaintextBytes(limits.max_message_bytes);
    if (size > ceiling) {
      const refusal = {
        code: 'too_large' as const,
        message: `The message is ${size} bytes; sealed messages on this server hold at most ${ceiling} bytes of content (subject, body and payload together), since sealing grows them to its ${limits.max_message_bytes}-byte limit. Shorten it or send it in parts.`,
        limit: ceiling,
      };
      throw new AmtpApiError(413, refusal.code, refusal.message, { error: refusal });
    }
  }

  /** The recipient's profile; an unknown one is refused exactly as the server refuses it (no enumeration). */
  private async recipientProfile(ref: string): Promise<W.AgentProfile> {
    try {
      return await this.peerProfile(ref);
    } catch (error) {
      if (error instanceof AmtpApiError && error.code === 'agent_not_found') {
        const refusal = notAuthorized();
        throw new AmtpApiError(refusal.status, refusal.code, refusal.message, refusal.toJSON());
      }
      throw error;
    }
  }

  // ── attention (issue 18) ──────────────────────────────────────────────────────────────────────
  quietHours = () => this.client.quietHours();
  setQuietHours = (input: Parameters<AmtpClient['setQuietHours']>[0]) => this.client.setQuietHours(input);
  deleteQuietHours = () => this.client.deleteQuietHours();
  async declineDeadline(id: string, reason: string) {
    return this.receive(await this.client.declineDeadline(id, reason));
  }

  /** Acknowledges a received message as processed, signing the receipt (SPEC §12) when this agent has a signing key. */
  async ack(id: string, input: W.AckInput): Promise<W.Message> {
    const signing = this.me.signing;
    if (!signing) return this.receive(await this.client.ack(id, input));
    const m = await this.message(id); // MAC-verified: the receipt binds the sender the delivery names
    const signed_at = new Date().toISOString();
    const fields = receiptFields(m, input, signed_at);
    const ed25519_signature = 'secretKey' in signing ? signReceipt(fields, signing.secretKey) : await signReceiptWith(fields, signing.sign);
    return this.receive(await this.client.ack(id, { ...input, ed25519_signature, signed_at }));
  }

  /**
   * How a sent message's processed receipt checks out: `verified` under the recipient's pinned key
   * valid when it was signed, `unsigned` when the recipient signs nothing, `failed` otherwise (a
   * recipient with a signing key cannot have an unsigned receipt accepted), null when there is none.
   */
  async receiptStatus(m: W.Message): Promise<SignatureStatus | null> {
    const p = m.processed;
    if (!p) return null;
    const recipient = await this.peerProfile(m.recipient_id).catch(() => null);
    const pin = recipient && !this.distrusted.has(m.recipient_id) ? this.pins.get(m.recipient_id) : undefined;
    if (!p.ed25519_signature || !p.signed_at) return pin?.public_key || recipient?.public_key ? 'failed' : 'unsigned';
    if (!pin) return 'failed';
    const fields = receiptFields(m, p, p.signed_at);
    return keysValidAt(pin, p.signed_at).some((key) => verifyReceipt(fields, p.ed25519_signature!, key)) ? 'verified' : 'failed';
  }

  /**
   * The server's digest, completed locally: sealed threads get their snippet from the message opened
   * here (at most `max`, default DIGEST_OPEN, of the peers `only` selects), and a failed signature
   * check here flags the thread too.
   */
  async digest(opts: { max?: number; only?: (peer: W.DigestPeer) => boolean } = {}): Promise<W.DigestOutput> {
    const out = await this.client.digest();
    const peers = opts.only ? out.peers.filter(opts.only) : out.peers;
    const sealed = peers.flatMap((p) => p.threads.filter((t) => t.latest?.sealed).map((t) => ({ p, t }))).slice(0, opts.max ?? DIGEST_OPEN);
    await Promise.all(
      sealed.map(async ({ p, t }) => {
        const opened = await this.message(t.latest!.message_id).catch(() => null);
        if (!opened) return;
        t.latest = {
          ...t.latest!,
          subject: opened.subject,
          snippet: opened.body === null ? null : opened.body.replace(/\s+/g, ' ').trim().slice(0, 160),
        };
        if (this.signatureOf(opened) === 'failed')
          for (const g of [t, p])
            if (!g.flags.includes('signature_failed')) g.flags = W_FLAGS.filter((f) => f === 'signature_failed' || g.flags.includes(f));
      }),
    );
    return out;
  }

  // ── receive: verify the MAC, check the signature, open ───────────────────────────────────────
  async inbox(query: Partial<W.InboxQuery> = {}): Promise<W.InboxOutput> {
    const out = await this.client.inbox(query);
    return { ...out, messages: await this.receiveEvery(out.messages) };
  }
  async thread(threadId: string) {
    const out = await this.client.thread(threadId);
    return { ...out, messages: await this.receiveEvery(out.messages) };
  }
  async message(id: string) {
    return this.receive(await this.client.message(id));
  }
  async outbox(query: { limit?: number; cursor?: string } = {}): Promise<W.MessagesPage> {
    const out = await this.client.outbox(query);
    return { ...out, messages: await this.receiveAll(out.messages) };
  }
  async markRead(id: string) {
    return this.receive(await this.client.markRead(id));
  }

  /** One message that cannot be received does not hide the others: it comes back empty, `failed`, with failureOf. */
  receiveAll(messages: W.Message[]): Promise<W.Message[]> {
    return Promise.all(messages.map((m) => this.receive(m).catch((error: unknown) => this.withheld(m, error))));
  }

  /** All or nothing: inbox and thread keep refusing the whole page when one message fails its MAC. */
  private receiveEvery(messages: W.Message[]): Promise<W.Message[]> {
    return Promise.all(messages.map((m) => this.receive(m)));
  }

  private withheld(m: W.Message, error: unknown): W.Message {
    const shell: W.Message = { ...m, subject: null, body: null, payload: null };
    this.status.set(shell, 'failed');
    this.failures.set(shell, error instanceof Error ? error.message : String(error));
    return shell;
  }

  /** Refuses (throws) when the delivery MAC does not check out: nothing unverified is ever shown. */
  async receive(m: W.Message): Promise<W.Message> {
    if (!verifyDeliveryMac(this.me.delivery_secret, m)) {
      throw new AmtpApiError(
        0,
        'invalid_signature',
        `Message ${m.id} failed its delivery MAC check: it was altered after the server signed it, or your delivery secret is out of date. Refusing to show it.`,
      );
    }
    const status = await this.signatureStatus(m);
    const opened = await this.open(m);
    this.status.set(opened, status);
    if (m.sealed && m.intent && m.recipient_id === this.me.agent_id) {
      const problem = await this.checkIntent(m.intent, opened.payload);
      if (problem) this.intentProblems.set(opened, problem);
    }
    return opened;
  }

  /** The server cannot read a sealed payload, so its typed intent is validated here. */
  private async checkIntent(intent: string, payload: unknown): Promise<string | undefined> {
    this.ownCapabilities ??= this.client.capabilities(this.me.agent_id).then(
      (c) => c.capabilities,
      () => [],
    );
    const schema = (await this.ownCapabilities).find((c) => c.id === intent)?.input_schema;
    if (!schema) return undefined;
    // An interpreting validator (draft-07, as the server's Ajv): no generated code, so it runs under a CSP without 'unsafe-eval'.
    const result = new Validator(schema, '7', false).validate(payload ?? null);
    if (result.valid) return undefined;
    const leaves = result.errors.filter((e) => !result.errors.some((d) => d.instanceLocation.startsWith(`${e.instanceLocation}/`)));
    return `payload does not match the "${intent}" schema: ${leaves.map((e) => `${e.instanceLocation.replace(/^#/, '') || '/'} ${e.error}`).join('; ')}`;
  }

  /**
   * `verified` only under a pinned key that was valid when the message was signed (the chain of
   * verified rotations keeps older keys for older mail). A sender with a pinned signing key never has
   * unsigned mail accepted by the server, so a missing signature there means it was stripped: `failed`.
   */
  private async signatureStatus(m: W.Message): Promise<SignatureStatus> {
    const sender = await this.peerProfile(m.sender_id).catch(() => null);
    const pin = sender && !this.distrusted.has(m.sender_id) ? this.pins.get(m.sender_id) : undefined;
    if (!m.ed25519_signature || !m.sig_nonce || !m.signed_at) {
      if (!pin?.public_key && !sender?.public_key) return 'unsigned';
      this.opts.onWarning?.(
        `WARNING: message ${m.id} from ${sender?.name ?? m.sender_id} carries no signature, although this sender signs all its mail. ` +
          'It was altered after it was sent (by the server or someone with its database): treat it as forged.',
      );
      return 'failed';
    }
    if (!pin) return 'failed';
    const fields = {
      ...m,
      ...crossServer(m),
      payload: m.sealed ? null : m.payload,
      subject: m.sealed ? null : m.subject,
      body: m.sealed ? null : m.body,
      sig_nonce: m.sig_nonce,
      signed_at: m.signed_at,
    };
    return keysValidAt(pin, m.signed_at).some((key) => verifyMessageSignature(fields, m.ed25519_signature!, key)) ? 'verified' : 'failed';
  }

  private async open(m: W.Message): Promise<W.Message> {
    const binding = { sender_id: m.sender_id, recipient_id: m.recipient_id, scope: m.scope, client_id: m.client_id, ...crossServer(m) };
    const envelope = m.recipient_id === this.me.agent_id ? m.sealed : (m.sealed_for_sender ?? null);
    const key = this.me.encryption;
    if (!envelope || !key) return m;
    try {
      return {
        ...m,
        ...('sharedSecret' in key
          ? await openMessageWith(envelope, key.sharedSecret, key.publicKey, binding)
          : openMessage(envelope, key.secretKey, binding)),
      };
    } catch {
      return { ...m, body: '[sealed: this message could not be opened with your encryption key]' };
    }
  }

  /** A peer's profile, with its keys pinned on first use and changes checked against a signed rotation. */
  peerProfile(ref: string): Promise<W.AgentProfile> {
    const cached = this.profiles.get(ref);
    if (cached) return Promise.resolve(cached);
    // Concurrent callers (a page of messages from one sender) share one fetch and one pinning decision.
    let pending = this.fetching.get(ref);
    if (!pending) {
      pending = this.fetchProfile(ref).finally(() => this.fetching.delete(ref));
      this.fetching.set(ref, pending);
    }
    return pending;
  }

  private async fetchProfile(ref: string): Promise<W.AgentProfile> {
    const profile = await this.client.profile(ref);
    const pinned = this.pins.get(profile.agent_id);
    const current = { public_key: profile.public_key, encryption_key: profile.encryption_key };
    if (!pinned || (!pinned.public_key && !pinned.encryption_key)) {
      // Trust on first use covers the profile's last verified rotation too, so older mail still verifies.
      const r = profile.key_rotation;
      const chained = r && r.new_public_key === current.public_key && verifyRotation({ agent_id: profile.agent_id, ...r }, r.signature);
      this.pins.set(
        profile.agent_id,
        chained ? rotated({ public_key: r.old_public_key, encryption_key: null }, current, r.rotated_at) : current,
      );
    } else if (pinned.public_key !== current.public_key || pinned.encryption_key !== current.encryption_key) {
      const r = profile.key_rotation;
      const continuous =
        r &&
        pinned.public_key === r.old_public_key &&
        r.new_public_key === current.public_key &&
        r.new_encryption_key === current.encryption_key &&
        verifyRotation({ agent_id: profile.agent_id, ...r }, r.signature);
      if (continuous) this.pins.set(profile.agent_id, rotated(pinned, current, r.rotated_at));
      else {
        this.distrusted.add(profile.agent_id);
        this.opts.onWarning?.(
          `WARNING: ${profile.name} (${profile.agent_id}) changed keys WITHOUT a valid rotation statement signed by the key you pinned. Their messages will show signature: failed until you verify them and re-pin.`,
        );
      }
    }
    this.profiles.set(ref, profile);
    this.profiles.set(profile.agent_id, profile);
    return profile;
  }
}

/** The pin after a verified rotation: the old signing key joins the chain, valid until the rotation. */
function rotated(pinned: PinnedKeys, current: PinnedKeys, rotatedAt: string): PinnedKeys {
  const previous = [...(pinned.previous ?? [])];
  if (pinned.public_key)
    previous.push({ public_key: pinned.public_key, ...(pinned.since ? { since: pinned.since } : {}), until: rotatedAt });
  return { ...current, since: rotatedAt, previous };
}

/** For a message between servers, the addresses its signature and seal bind (SPEC §19.7); none for local mail (v1, ids). */
function crossServer(m: W.Message): { sender_address?: string; recipient_address?: string } {
  const remote = m.sender_name.includes('@') || m.recipient_name.includes('@');
  return remote
    ? { sender_address: m.sender_address, recipient_address: m.recipient_address }
    : { sender_address: undefined, recipient_address: undefined };
}
