/**
 * Operator commands (`amtp admin …`): they run with direct access to the store, never over the API.
 * Every command, reads included, appends to the server-level audit log — one hash chain for the whole
 * server (src/protocol/audit-chain.ts) — in the same transaction as the change it records. Changes
 * that concern one agent are also written to that agent's own audit log, so its owner sees them.
 *
 * Suspension: the agent's API key is refused with `agent_suspended` (REST, MCP, stream), and to every
 * other agent it is unreachable exactly like an unknown agent (`not_authorized` on send,
 * `agent_not_found` on contact requests, profile and capabilities). Its data, grants and mail are
 * kept; unsuspending restores all.
 */
import { userInfo } from 'node:os';
import { findBrokenServerLink } from '../protocol/audit-chain.js';
import { AmtpError, agentNotFound } from '../protocol/errors.js';
import type { AgentRecord, InviteRecord, ServerAuditRecord, WriteOp } from '../store/types.js';
import { auditOp, commit, findAgent, type CoreDeps } from './context.js';
import { hashSecret, newApiKey, newInviteToken, nowIso } from './ids.js';
import { endSessions } from './notifier.js';

export type ServerAuditAction =
  | 'admin.agents.listed'
  | 'admin.agent.suspended'
  | 'admin.agent.unsuspended'
  | 'admin.api_key.reset'
  | 'admin.agent.deleted'
  | 'admin.invite.created'
  | 'admin.invites.listed'
  | 'admin.invite.revoked';

export interface AdminAgent {
  agent_id: string;
  name: string;
  display_name: string | null;
  created_at: string;
  suspended_at: string | null;
  signing_key: boolean;
}

export interface AdminInvite {
  /** The first 16 hex digits of the token's hash: names the invite without revealing it. */
  invite_id: string;
  created_at: string;
  expires_at: string | null;
  status: 'open' | 'used' | 'expired' | 'revoked';
  used_by: string | null;
}

/** Who ran the command, as the operating system says (recorded in every server audit entry). */
const operator = () => {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
};

export function serverAuditOp(action: ServerAuditAction, target_id: string | null, details: Record<string, unknown> = {}): WriteOp {
  return { op: 'appendServerAudit', entry: { at: nowIso(), action, target_id, details: { operator: operator(), ...details } } };
}

export const INVITE_ID_LENGTH = 16;

export class Admin {
  constructor(private readonly deps: CoreDeps) {}

  async listAgents(q: { offset: number; limit: number }): Promise<AdminAgent[]> {
    const agents = await this.deps.store.listAgents(q);
    await commit(this.deps, [serverAuditOp('admin.agents.listed', null, { offset: q.offset, limit: q.limit, returned: agents.length })]);
    return agents.map(adminView);
  }

  /** Idempotent: suspending a suspended agent changes nothing and records nothing. */
  async suspend(ref: string, reason: string | null): Promise<{ agent: AdminAgent; changed: boolean }> {
    const agent = await this.agent(ref);
    if (agent.suspended_at) return { agent: adminView(agent), changed: false };
    const at = nowIso();
    await commit(this.deps, [
      { op: 'updateAgent', id: agent.id, patch: { suspended_at: at } },
      auditOp(agent.id, 'agent.suspended', agent.id, reason ? { reason } : {}),
      serverAuditOp('admin.agent.suspended', agent.id, { name: agent.name, ...(reason ? { reason } : {}) }),
    ]);
    endSessions(this.deps, agent.id, 'agent_suspended');
    return { agent: adminView({ ...agent, suspended_at: at }), changed: true };
  }

  async unsuspend(ref: string): Promise<{ agent: AdminAgent; changed: boolean }> {
    const agent = await this.agent(ref);
    if (!agent.suspended_at) return { agent: adminView(agent), changed: false };
    await commit(this.deps, [
      { op: 'updateAgent', id: agent.id, patch: { suspended_at: null } },
      auditOp(agent.id, 'agent.unsuspended', agent.id),
      serverAuditOp('admin.agent.unsuspended', agent.id, { name: agent.name }),
    ]);
    return { agent: adminView({ ...agent, suspended_at: null }), changed: true };
  }

  /** For an owner who lost the key (or had it stolen): the old key stops working at once; the new one is shown once. */
  async resetApiKey(ref: string): Promise<{ agent_id: string; name: string; api_key: string }> {
    const agent = await this.agent(ref);
    const apiKey = newApiKey();
    await commit(this.deps, [
      { op: 'updateAgent', id: agent.id, patch: { api_key_hash: hashSecret(apiKey) } },
      auditOp(agent.id, 'api_key.reset', agent.id),
      serverAuditOp('admin.api_key.reset', agent.id, { name: agent.name }),
    ]);
    endSessions(this.deps, agent.id, 'api_key_reset');
    return { agent_id: agent.id, name: agent.name, api_key: apiKey };
  }

  /** Deletes the agent, its own logs and every message, grant, block and request it is part of; frees its name. */
  async deleteAgent(ref: string): Promise<{ agent_id: string; name: string }> {
    const agent = await this.agent(ref);
    await commit(this.deps, [{ op: 'deleteAgent', id: agent.id }, serverAuditOp('admin.agent.deleted', agent.id, { name: agent.name })]);
    endSessions(this.deps, agent.id, 'agent_deleted');
    return { agent_id: agent.id, name: agent.name };
  }

  /** A single-use registration invite (for AMTP_REGISTRATION=invite); the token is shown once. */
  async createInvite(ttlHours: number | null): Promise<{ invite: string; invite_id: string; expires_at: string | null }> {
    const invite = newInviteToken();
    const token_hash = hashSecret(invite);
    const expires_at = ttlHours ? new Date(Date.now() + ttlHours * 3_600_000).toISOString() : null;
    const invite_id = token_hash.slice(0, INVITE_ID_LENGTH);
    await commit(this.deps, [
      { op: 'createInvite', token_hash, created_at: nowIso(), expires_at },
      serverAuditOp('admin.invite.created', invite_id, { expires_at }),
    ]);
    return { invite, invite_id, expires_at };
  }

  async listInvites(): Promise<AdminInvite[]> {
    const invites = await this.deps.store.invites();
    await commit(this.deps, [serverAuditOp('admin.invites.listed', null, { returned: invites.length })]);
    const now = nowIso();
    return invites.map((i) => inviteView(i, now));
  }

  /** By invite id (or a unique prefix of it, 8 hex digits at least). Only an open invite can be revoked. */
  async revokeInvite(id: string): Promise<AdminInvite> {
    const prefix = id.toLowerCase();
    if (!/^[0-9a-f]{8,64}$/.test(prefix))
      throw new AmtpError('invalid_request', 'An invite id is 8 to 64 hex digits, as `amtp admin invites` lists them.');
    const matches = (await this.deps.store.invites()).filter((i) => i.token_hash.startsWith(prefix));
    if (matches.length === 0) throw new AmtpError('not_found', `No invite with the id ${id}. List them with \`amtp admin invites\`.`);
    if (matches.length > 1) throw new AmtpError('invalid_request', `${matches.length} invites start with ${id}; give more digits.`);
    const invite = matches[0]!;
    const at = nowIso();
    const view = inviteView(invite, at);
    if (view.status !== 'open')
      throw new AmtpError('invalid_request', `The invite ${view.invite_id} is ${view.status}; only an open invite can be revoked.`);
    const [revoked] = await commit(this.deps, [
      { op: 'revokeInvite', token_hash: invite.token_hash, at },
      serverAuditOp('admin.invite.revoked', view.invite_id),
    ]);
    if (!revoked) throw new AmtpError('invalid_request', `The invite ${view.invite_id} was used or revoked meanwhile.`);
    return inviteView({ ...invite, revoked_at: at }, at);
  }

  /** The server audit log and whether its chain is intact (reading it is not itself recorded). */
  async auditLog(): Promise<{ entries: ServerAuditRecord[]; valid: boolean; head: string | null; broken_at_seq: number | null }> {
    const entries = await this.deps.store.serverAuditAll();
    const broken = findBrokenServerLink(entries);
    return { entries, valid: broken === null, head: entries.at(-1)?.hash ?? null, broken_at_seq: broken };
  }

  private async agent(ref: string): Promise<AgentRecord> {
    const agent = await findAgent(this.deps.store, ref);
    if (!agent) throw agentNotFound();
    return agent;
  }
}

const adminView = (a: AgentRecord): AdminAgent => ({
  agent_id: a.id,
  name: a.name,
  display_name: a.display_name,
  created_at: a.created_at,
  suspended_at: a.suspended_at,
  signing_key: a.public_key !== null,
});

function inviteView(i: InviteRecord, now: string): AdminInvite {
  const status = i.revoked_at ? 'revoked' : i.used_at ? 'used' : i.expires_at && i.expires_at <= now ? 'expired' : 'open';
  return {
    invite_id: i.token_hash.slice(0, INVITE_ID_LENGTH),
    created_at: i.created_at,
    expires_at: i.expires_at,
    status,
    used_by: i.used_by,
  };
}
