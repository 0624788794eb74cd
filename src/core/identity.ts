/** Registration, API keys and public profiles. */
import { AmtpError, agentNotFound } from '../protocol/errors.js';
import type { AgentProfile, Me, RegisterInput, RegisterOutput } from '../protocol/schemas.js';
import { StoreError, type AgentRecord } from '../store/types.js';
import { auditOp, commit, findAgent, type Caller, type CoreDeps } from './deps.js';
import { API_KEY_PATTERN, hashSecret, newAgentId, newApiKey, newInviteToken, nowIso } from './ids.js';

export class Identity {
  constructor(
    private readonly deps: CoreDeps,
    /** What the agent should be told on `me` (for example a disabled webhook). */
    private readonly notices: (caller: Caller) => Promise<string[]>,
  ) {}

  async register(input: RegisterInput, source: { ip: string }): Promise<RegisterOutput> {
    const { store, config, limiter } = this.deps;
    if (config.registration === 'closed') {
      throw new AmtpError('registration_closed', 'This server does not accept new registrations. Ask its operator for an account.');
    }
    limiter.take(`register:${source.ip}`, config.limits.registerPerHour, 3_600_000, 'registrations from this address');
    if (config.registration === 'invite' && !input.invite) {
      throw new AmtpError('invalid_invite', 'This server registers by invitation: pass the invite token you were given as "invite".');
    }
    const apiKey = newApiKey();
    const agent: AgentRecord = {
      id: newAgentId(),
      name: input.name,
      display_name: input.display_name ?? null,
      public_key: input.public_key ?? null,
      encryption_key: input.encryption_key ?? null,
      api_key_hash: hashSecret(apiKey),
      created_at: nowIso(),
    };
    const invite = config.registration === 'invite' && input.invite
      ? [{ op: 'consumeInvite', token_hash: hashSecret(input.invite), agent_id: agent.id, at: agent.created_at } as const]
      : [];
    try {
      await commit(this.deps, [{ op: 'createAgent', agent }, ...invite, auditOp(agent.id, 'agent.registered', agent.id, { name: agent.name })]);
    } catch (error) {
      if (error instanceof StoreError && error.kind === 'name_taken') {
        throw new AmtpError('name_taken', `The name "${input.name}" is taken. Pick another handle.`);
      }
      if (error instanceof StoreError && error.kind === 'invite_unavailable') {
        throw new AmtpError('invalid_invite', 'That invite token is unknown, already used or expired. Ask the operator for a new one.');
      }
      throw error;
    }
    return { agent_id: agent.id, name: agent.name, api_key: apiKey };
  }

  /** The agent behind an API key, or 401 — the same answer whether or not such an agent ever existed. */
  async authenticate(apiKey: string | undefined): Promise<Caller> {
    const agent = apiKey && API_KEY_PATTERN.test(apiKey) ? await this.deps.store.agentByKeyHash(hashSecret(apiKey)) : null;
    if (!agent) {
      throw new AmtpError('invalid_api_key', 'Missing or invalid API key. Send it as "Authorization: Bearer <api_key>"; register first if you have none.');
    }
    return agent;
  }

  async me(caller: Caller): Promise<Me> {
    const [unread_count, notices] = await Promise.all([this.deps.store.unreadCount(caller.id), this.notices(caller)]);
    return { ...profile(caller), unread_count, notices };
  }

  async rotateApiKey(caller: Caller): Promise<{ api_key: string }> {
    const apiKey = newApiKey();
    await commit(this.deps, [
      { op: 'updateAgent', id: caller.id, patch: { api_key_hash: hashSecret(apiKey) } },
      auditOp(caller.id, 'api_key.rotated', caller.id),
    ]);
    return { api_key: apiKey };
  }

  async profile(ref: string): Promise<AgentProfile> {
    const agent = await findAgent(this.deps.store, ref);
    if (!agent) throw agentNotFound();
    return profile(agent);
  }

  /** Operator command: a single-use invite token, shown once. */
  async createInvite(ttlHours: number | null): Promise<{ invite: string; expires_at: string | null }> {
    const invite = newInviteToken();
    const expires_at = ttlHours ? new Date(Date.now() + ttlHours * 3_600_000).toISOString() : null;
    await commit(this.deps, [{ op: 'createInvite', token_hash: hashSecret(invite), created_at: nowIso(), expires_at }]);
    return { invite, expires_at };
  }
}

export function profile(a: AgentRecord): AgentProfile {
  return {
    agent_id: a.id,
    name: a.name,
    display_name: a.display_name,
    public_key: a.public_key,
    encryption_key: a.encryption_key,
    created_at: a.created_at,
  };
}
