/** Registration, API keys and public profiles. */
import { AmtpError, agentNotFound } from '../protocol/errors.js';
import { verifyRotation } from '../crypto/rotation.js';
import type { AgentProfile, AuditAction, KeysInput, Me, RegisterInput, RegisterOutput } from '../protocol/schemas.js';
import { StoreError, type AgentRecord } from '../store/types.js';
import { addressOf, serverDomain } from './addresses.js';
import { auditOp, commit, findActiveAgent, suspended, type Caller, type CoreDeps } from './context.js';
import { CREDENTIALS_CHANGED, endSessions } from './notifier.js';
import { API_KEY_PATTERN, hashSecret, newAgentId, newApiKey, newDeliverySecret, nowIso } from './ids.js';

export class Identity {
  constructor(
    private readonly deps: CoreDeps,
    /** What the agent should be told on `me` (for example a disabled webhook). */
    private readonly notices: (caller: Caller) => Promise<string[]>,
  ) {}

  /** This server's domain in addresses (SPEC §19.1). */
  private get domain(): string {
    return serverDomain(this.deps.config);
  }

  async register(input: RegisterInput, source: { ip: string }): Promise<RegisterOutput> {
    const { config, limiter } = this.deps;
    if (config.registration === 'closed') {
      throw new AmtpError('registration_closed', 'This server does not accept new registrations. Ask its operator for an account.');
    }
    limiter.take(`register:${source.ip}`, config.limits.registerPerHour, 3_600_000, 'registrations from this address');
    if (config.registration === 'invite' && !input.invite) {
      throw new AmtpError('invalid_invite', 'This server registers by invitation: pass the invite token you were given as "invite".');
    }
    const apiKey = newApiKey();
    const agent: AgentRecord = {
      delivery_secret: newDeliverySecret(),
      key_rotation: null,
      keys_reset_at: null,
      suspended_at: null,
      id: newAgentId(),
      name: input.name,
      display_name: input.display_name ?? null,
      public_key: input.public_key ?? null,
      encryption_key: input.encryption_key ?? null,
      api_key_hash: hashSecret(apiKey),
      created_at: nowIso(),
    };
    const invite =
      config.registration === 'invite' && input.invite
        ? [{ op: 'consumeInvite', token_hash: hashSecret(input.invite), agent_id: agent.id, at: agent.created_at } as const]
        : [];
    try {
      await commit(this.deps, [
        { op: 'createAgent', agent },
        ...invite,
        auditOp(agent.id, 'agent.registered', agent.id, { name: agent.name }),
        ...(agent.public_key || agent.encryption_key
          ? [auditOp(agent.id, 'keys.published', agent.id, { public_key: agent.public_key, encryption_key: agent.encryption_key })]
          : []),
      ]);
    } catch (error) {
      if (error instanceof StoreError && error.kind === 'name_taken') {
        throw new AmtpError('name_taken', `The name "${input.name}" is taken. Pick another handle.`);
      }
      if (error instanceof StoreError && error.kind === 'invite_unavailable') {
        throw new AmtpError(
          'invalid_invite',
          'That invite token is unknown, already used, revoked or expired. Ask the operator for a new one.',
        );
      }
      throw error;
    }
    return { agent_id: agent.id, name: agent.name, api_key: apiKey, delivery_secret: agent.delivery_secret };
  }

  /** The agent behind an API key, or 401 — the same answer whether or not such an agent ever existed. */
  async authenticate(apiKey: string | undefined): Promise<Caller> {
    const agent = apiKey && API_KEY_PATTERN.test(apiKey) ? await this.deps.store.agentByKeyHash(hashSecret(apiKey)) : null;
    if (!agent) {
      throw new AmtpError(
        'invalid_api_key',
        'Missing or invalid API key. Send it as "Authorization: Bearer <api_key>"; register first if you have none.',
      );
    }
    if (agent.suspended_at) throw suspended(agent.suspended_at);
    return agent;
  }

  async me(caller: Caller): Promise<Me> {
    const [unread_count, notices] = await Promise.all([this.deps.store.unreadCount(caller.id), this.notices(caller)]);
    return { ...profile(caller, this.domain), unread_count, notices };
  }

  async rotateApiKey(caller: Caller): Promise<{ api_key: string }> {
    const apiKey = newApiKey();
    await commit(this.deps, [
      { op: 'updateAgent', id: caller.id, patch: { api_key_hash: hashSecret(apiKey) } },
      auditOp(caller.id, 'api_key.rotated', caller.id),
    ]);
    // Streams and long-polls opened with the old key end now, here and on every other instance.
    endSessions(this.deps, caller.id, 'api_key_rotated');
    return { api_key: apiKey };
  }

  async rotateDeliverySecret(caller: Caller): Promise<{ delivery_secret: string }> {
    const secret = newDeliverySecret();
    await commit(this.deps, [
      { op: 'updateAgent', id: caller.id, patch: { delivery_secret: secret } },
      auditOp(caller.id, 'delivery_secret.rotated', caller.id),
    ]);
    this.deps.notifier.publish({ type: CREDENTIALS_CHANGED, agent_id: caller.id });
    return { delivery_secret: secret };
  }

  /**
   * Publishes or changes the agent's public keys. Replacing a published signing key (or the
   * encryption key beside it) is a verified rotation only with a statement signed by the current
   * signing key; otherwise it is accepted on the API key alone but flagged as an unverified reset.
   */
  async setKeys(caller: Caller, input: KeysInput): Promise<AgentProfile> {
    const next = { public_key: input.public_key ?? caller.public_key, encryption_key: input.encryption_key ?? caller.encryption_key };
    if (next.public_key === caller.public_key && next.encryption_key === caller.encryption_key) return profile(caller, this.domain);
    let patch: Partial<AgentRecord> = next;
    let action: AuditAction = 'keys.published';
    if (caller.public_key) {
      if (!next.public_key) throw new AmtpError('invalid_request', 'A signing key cannot be removed, only rotated.');
      const statement = {
        agent_id: caller.id,
        old_public_key: caller.public_key,
        new_public_key: next.public_key,
        new_encryption_key: next.encryption_key,
        rotated_at: input.rotated_at ?? '',
      };
      const verified =
        input.rotation_signature !== undefined && input.rotated_at !== undefined && verifyRotation(statement, input.rotation_signature);
      if (input.rotation_signature !== undefined && !verified) {
        throw new AmtpError(
          'invalid_signature',
          'The rotation statement does not verify against your current signing key. Sign it with the current key (SPEC §12), or omit rotation_signature for an unverified reset.',
        );
      }
      action = verified ? 'keys.rotated' : 'keys.reset';
      patch = verified
        ? { ...next, key_rotation: { ...statement, rotated_at: input.rotated_at!, signature: input.rotation_signature! } }
        : { ...next, keys_reset_at: nowIso() };
    } else if (caller.encryption_key && input.encryption_key && input.encryption_key !== caller.encryption_key) {
      action = 'keys.reset';
      patch = { ...next, keys_reset_at: nowIso() };
    }
    await commit(this.deps, [
      { op: 'updateAgent', id: caller.id, patch },
      auditOp(caller.id, action, caller.id, { public_key: next.public_key, encryption_key: next.encryption_key }),
    ]);
    return profile({ ...caller, ...patch }, this.domain);
  }

  async profile(ref: string): Promise<AgentProfile> {
    const agent = await findActiveAgent(this.deps.store, ref);
    if (!agent) throw agentNotFound();
    return profile(agent, this.domain);
  }
}

export function profile(a: AgentRecord, domain: string): AgentProfile {
  return {
    address: addressOf(a, domain),
    remote: a.name.includes('@'),
    agent_id: a.id,
    name: a.name,
    display_name: a.display_name,
    public_key: a.public_key,
    encryption_key: a.encryption_key,
    key_rotation: a.key_rotation,
    keys_reset_at: a.keys_reset_at,
    created_at: a.created_at,
  };
}
