/**
 * `amtp admin …`: operator commands. They open the store directly (chosen as for `serve`: DATABASE_URL,
 * else SQLite in AMTP_DATA_DIR), beside a running server or not; each is recorded in the server audit
 * log (src/core/admin.ts). Exit codes: 0 ok · 1 refused (unknown agent, invite not open…) · 2 usage ·
 * 4 the server audit chain does not verify.
 */
import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import type { Mailbox } from '../core/mailbox.js';
import { AmtpError } from '../protocol/errors.js';

export const ADMIN_USAGE = `Operator (amtp admin <command>; the store is chosen as for serve; --json for scripts):
  admin agents [--limit N] [--offset N]   list agents (id, name, created, suspended)
  admin suspend <agent> [--reason TEXT]   refuse the agent's key (agent_suspended) and make it unreachable
  admin unsuspend <agent>                 lift a suspension
  admin reset-key <agent>                 new API key for an owner who lost theirs (shown once; old key dies)
  admin delete <agent> --yes              delete the agent, its logs and every message, grant and request it is in
  admin invites                           list registration invites and their status
  admin invite-create [--ttl-hours N]     create a single-use invite (shown once)
  admin revoke-invite <invite_id>         revoke an open invite
  admin audit                             print the server audit log and verify its hash chain
`;

const OPTIONS = {
  json: { type: 'boolean' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  reason: { type: 'string' },
  yes: { type: 'boolean' },
  'ttl-hours': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class Usage extends Error {}

export async function runAdmin(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, target, ...extra] = positionals;
  if (command === 'help' || values.help) {
    process.stdout.write(ADMIN_USAGE);
    return 0;
  }
  if (!command) return usage('which admin command?');
  const app = await createApp(loadConfig());
  try {
    const result = await dispatch(app.core, command, target, extra, values);
    const { text, json } = result;
    process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : text);
    return result.code ?? 0;
  } catch (error) {
    if (error instanceof Usage) return usage(error.message);
    if (error instanceof AmtpError) {
      process.stderr.write(`amtp admin: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await app.close();
  }
}

type Values = { json?: boolean; limit?: string; offset?: string; reason?: string; yes?: boolean; 'ttl-hours'?: string };

async function dispatch(
  core: Mailbox,
  command: string,
  target: string | undefined,
  extra: string[],
  values: Values,
): Promise<{ text: string; json: unknown; code?: number }> {
  const needs = (n: 0 | 1) => {
    if (extra.length || (n === 1 ? !target : target))
      throw new Usage(`"admin ${command}" takes ${n === 1 ? 'one argument' : 'no argument'}`);
    return target!;
  };
  switch (command) {
    case 'agents': {
      needs(0);
      const agents = await core.admin.listAgents({ offset: count(values.offset, 0, 'offset'), limit: count(values.limit, 100, 'limit') });
      const rows = agents.map((a) => [a.agent_id, a.name, a.created_at, a.suspended_at ? `suspended ${a.suspended_at}` : 'active']);
      return { text: table(['agent_id', 'name', 'created_at', 'status'], rows), json: { agents } };
    }
    case 'suspend':
    case 'unsuspend': {
      const ref = needs(1);
      const { agent, changed } =
        command === 'suspend' ? await core.admin.suspend(ref, values.reason ?? null) : await core.admin.unsuspend(ref);
      const state = agent.suspended_at ? `suspended since ${agent.suspended_at}` : 'active';
      return { text: `${agent.name} (${agent.agent_id}): ${changed ? '' : 'unchanged, '}${state}\n`, json: { agent, changed } };
    }
    case 'reset-key': {
      const r = await core.admin.resetApiKey(needs(1));
      process.stderr.write(
        `New API key for ${r.name} (${r.agent_id}); the old one no longer works. It is shown once: hand it to the owner over a safe channel.\n`,
      );
      return { text: `${r.api_key}\n`, json: r };
    }
    case 'delete': {
      const ref = needs(1);
      if (!values.yes) throw new Usage('"admin delete" removes the agent and all its mail for good: add --yes to confirm');
      const r = await core.admin.deleteAgent(ref);
      return { text: `Deleted ${r.name} (${r.agent_id}) and its data.\n`, json: r };
    }
    case 'invites': {
      needs(0);
      const invites = await core.admin.listInvites();
      const rows = invites.map((i) => [i.invite_id, i.status, i.created_at, i.expires_at ?? '-', i.used_by ?? '-']);
      return { text: table(['invite_id', 'status', 'created_at', 'expires_at', 'used_by'], rows), json: { invites } };
    }
    case 'invite-create': {
      needs(0);
      const ttl = values['ttl-hours'] === undefined ? null : count(values['ttl-hours'], 0, 'ttl-hours') || null;
      const r = await core.admin.createInvite(ttl);
      process.stderr.write(`Single-use invite ${r.invite_id}${r.expires_at ? `, valid until ${r.expires_at}` : ''}. It is shown once.\n`);
      return { text: `${r.invite}\n`, json: r };
    }
    case 'revoke-invite': {
      const invite = await core.admin.revokeInvite(needs(1));
      return { text: `Invite ${invite.invite_id} revoked.\n`, json: { invite } };
    }
    case 'audit': {
      needs(0);
      const log = await core.admin.auditLog();
      const rows = log.entries.map((e) => [String(e.seq), e.at, e.action, e.target_id ?? '-', JSON.stringify(e.details)]);
      const verdict = log.valid
        ? `chain intact: ${log.entries.length} entries, head ${log.head ?? '-'}\n`
        : `CHAIN BROKEN at seq ${log.broken_at_seq}\n`;
      return { text: table(['seq', 'at', 'action', 'target', 'details'], rows) + verdict, json: log, code: log.valid ? 0 : 4 };
    }
    default:
      throw new Usage(`unknown admin command "${command}"`);
  }
}

function count(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,9}$/.test(value)) throw new Usage(`--${name} takes a whole number`);
  return Number(value);
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

function usage(problem: string): number {
  process.stderr.write(`amtp admin: ${problem}\n\n${ADMIN_USAGE}`);
  return 2;
}
