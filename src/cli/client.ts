/**
 * The `amtp` client commands: a human (or script, with --json) talking to an AMTP server through the
 * SDK. Keys are generated and kept in the local keyring; signing, sealing, verifying and opening all
 * happen here. Exit codes: 0 ok · 1 refused by the server · 2 usage · 3 server unreachable ·
 * 4 verification failed (delivery MAC or keys).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { AmtpApiError, AmtpClient } from '../client/client.js';
import { Keyring } from '../client/keyring.js';
import { SecureMailbox } from '../client/secure.js';
import { signRotation } from '../crypto/rotation.js';
import { generateEncryptionKeyPair } from '../crypto/seal.js';
import { generateSigningKeyPair } from '../crypto/sign.js';
import { neutralize } from '../mcp/fence.js';
import { buildToolServer } from '../mcp/server.js';
import type { MailboxApi } from '../protocol/api.js';
import type * as W from '../protocol/schemas.js';

export const CLIENT_USAGE = `Client (keys stay in ~/.config/amtp; --profile NAME for another identity, --json for scripts):
  register <name> --server URL [--display-name X]   create an agent; generates signing + encryption keys locally
  whoami                                             this agent, unread count, notices
  request <agent> [--note TEXT] [--scopes a,b]       ask an agent to connect
  requests [--incoming|--outgoing] [--status S]      contact requests
  approve <request_id> [--scopes a,b]                approve an incoming request
  decline <request_id>                               decline (blocks the requester for good)
  revoke <agent>                                     withdraw your authorization
  peers                                              every counterparty and its state
  send <agent> <text…|-> [--subject S] [--scope S] [--intent I] [--payload JSON] [--reply-to ID] [--client-id ID] [--plain]
                                                     sign and (when the recipient has a key) seal, then send
  inbox [--unread] [--limit N] [--watch]             read mail (verified, opened, content shown as untrusted)
  read <message_id> | read --all                     mark read
  thread <thread_id>                                 a whole thread
  status <message_id>                                queued / delivered / read
  capabilities get <agent> | capabilities set <file.json>
  keys rotate                                        new keys, announced with a statement signed by the old key
  mcp                                                local stdio MCP server with the a2a_* tools (keys stay here)
`;

const OPTIONS = {
  json: { type: 'boolean' },
  profile: { type: 'string' },
  server: { type: 'string' },
  'display-name': { type: 'string' },
  note: { type: 'string' },
  scopes: { type: 'string' },
  incoming: { type: 'boolean' },
  outgoing: { type: 'boolean' },
  status: { type: 'string' },
  subject: { type: 'string' },
  scope: { type: 'string' },
  intent: { type: 'string' },
  payload: { type: 'string' },
  'reply-to': { type: 'string' },
  'client-id': { type: 'string' },
  plain: { type: 'boolean' },
  unread: { type: 'boolean' },
  limit: { type: 'string' },
  watch: { type: 'boolean' },
  all: { type: 'boolean' },
} as const;

export const CLIENT_COMMANDS = new Set(['register', 'whoami', 'request', 'requests', 'approve', 'decline', 'revoke', 'peers', 'send', 'inbox', 'read', 'thread', 'status', 'capabilities', 'keys', 'mcp']);

class UsageError extends Error {}

export async function runClient(argv: string[], io = { out: process.stdout, err: process.stderr, stdin: process.stdin }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.err.write(`amtp: ${(error as Error).message}\n\n${CLIENT_USAGE}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  const [command, ...args] = positionals;
  const print = (human: string, data: unknown) => io.out.write(o.json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);
  try {
    if (command === 'register') return await register(args, o, print);
    const ring = Keyring.load(o.profile);
    const client = new AmtpClient({ baseUrl: o.server ?? ring.data.server, apiKey: ring.data.api_key });
    const mailbox = new SecureMailbox(client, ring.data, ring, { plain: o.plain, onWarning: (w) => io.err.write(`${w}\n`) });
    const need = (n: number, what: string) => {
      if (args.length < n) throw new UsageError(`amtp ${command}: missing ${what}`);
    };
    switch (command) {
      case 'whoami': {
        const me = await mailbox.whoami();
        return print(`${me.name} (${me.agent_id}) on ${client.baseUrl}, ${me.unread_count} unread${me.notices.map((n) => `\nNotice: ${n}`).join('')}`, me), 0;
      }
      case 'request': {
        need(1, '<agent>');
        const r = await mailbox.requestContact({ agent_id: args[0]!, note: o.note, scopes: list(o.scopes) });
        return print(`Request ${r.id} to ${r.to_name}: ${r.status}`, r), 0;
      }
      case 'requests': {
        const rs = await mailbox.listRequests({ direction: o.incoming ? 'incoming' : o.outgoing ? 'outgoing' : undefined, status: o.status as W.RequestStatus | undefined });
        return print(rs.map((r) => `${r.id}  ${r.from_name} → ${r.to_name}  ${r.status}  [${r.scopes.join(', ')}]${r.note ? `  “${neutralize(r.note)}”` : ''}`).join('\n') || 'No contact requests.', rs), 0;
      }
      case 'approve': {
        need(1, '<request_id>');
        const r = await mailbox.approve(args[0]!, list(o.scopes));
        return print(`Approved ${r.from_name}: you can now message each other.`, r), 0;
      }
      case 'decline': {
        need(1, '<request_id>');
        const r = await mailbox.decline(args[0]!);
        return print(`Declined ${r.from_name}; they are blocked (amtp can unblock via the API).`, r), 0;
      }
      case 'revoke': {
        need(1, '<agent>');
        const r = await mailbox.revoke(args[0]!);
        return print(r.revoked ? `Revoked ${args[0]}.` : `${args[0]} was not authorized.`, r), 0;
      }
      case 'peers': {
        const ps = await mailbox.peers();
        return print(ps.map((p) => `${p.name.padEnd(24)} ${p.state.padEnd(18)} they→me [${p.my_scopes.join(', ')}]  me→they [${p.their_scopes.join(', ')}]`).join('\n') || 'No peers yet: amtp request <agent>.', ps), 0;
      }
      case 'send': {
        need(2, '<agent> <text>');
        const body = args[1] === '-' ? readFileSync(0, 'utf8') : args.slice(1).join(' ');
        const out = await mailbox.send({
          recipient_id: args[0]!,
          body,
          subject: o.subject,
          scope: o.scope ?? 'message',
          intent: o.intent,
          payload: o.payload ? JSON.parse(o.payload) : undefined,
          reply_to_id: o['reply-to'],
          client_id: o['client-id'],
        });
        return print(`202 queued · ${out.id} · thread ${out.thread_id}`, out), 0;
      }
      case 'inbox': {
        const show = (ms: W.Message[]) => print(ms.map((m) => render(m, mailbox)).join('\n\n') || 'No messages.', ms);
        if (!o.watch) {
          const out = await mailbox.inbox({ unread_only: o.unread ?? false, limit: o.limit ? Number(o.limit) : 50 });
          const text = out.messages.map((m) => render(m, mailbox)).join('\n\n');
          return print(`${out.unread_count} unread\n\n${text || 'No messages.'}`, out), 0;
        }
        for await (const event of client.stream()) {
          if (event.type !== 'message.received' || !event.data.message) continue;
          show([await mailbox.receive(event.data.message as W.Message)]);
        }
        return 0;
      }
      case 'read': {
        if (o.all) {
          const r = await mailbox.markAllRead();
          return print(`Marked ${r.marked} read.`, r), 0;
        }
        need(1, '<message_id> or --all');
        const m = await mailbox.markRead(args[0]!);
        return print(`Marked ${m.id} read.`, m), 0;
      }
      case 'thread': {
        need(1, '<thread_id>');
        const t = await mailbox.thread(args[0]!);
        return print(t.messages.map((m) => render(m, mailbox)).join('\n\n'), t), 0;
      }
      case 'status': {
        need(1, '<message_id>');
        const m = await mailbox.message(args[0]!);
        return print(`${m.id} → ${m.recipient_name}: ${m.status}${m.delivered_at ? ` (delivered ${m.delivered_at})` : ''}${m.read_at ? ` (read ${m.read_at})` : ''}`, m), 0;
      }
      case 'capabilities': {
        if (args[0] === 'get' && args[1]) {
          const c = await mailbox.capabilities(args[1]);
          return print(c.capabilities.map((x) => `${x.id}: ${x.title}${x.description ? ` — ${x.description}` : ''}`).join('\n') || 'No capabilities published.', c), 0;
        }
        if (args[0] === 'set' && args[1]) {
          const file = JSON.parse(readFileSync(args[1], 'utf8'));
          const c = await mailbox.setCapabilities(Array.isArray(file) ? file : file.capabilities);
          return print(`Published ${c.capabilities.length} capabilities.`, c), 0;
        }
        throw new UsageError('amtp capabilities get <agent> | set <file.json>');
      }
      case 'keys': {
        if (args[0] !== 'rotate') throw new UsageError('amtp keys rotate');
        return print(...(await rotateKeys(ring, client))), 0;
      }
      case 'mcp':
        await serveMcp(ring, mailbox);
        return -1;
    }
    throw new UsageError(`amtp: unknown command "${command ?? ''}"`);
  } catch (error) {
    return fail(error, io.err);
  }
}

async function register(args: string[], o: Record<string, unknown>, print: (h: string, d: unknown) => void): Promise<number> {
  if (!args[0] || typeof o.server !== 'string') throw new UsageError('amtp register <name> --server URL');
  const profile = (o.profile as string | undefined) ?? 'default';
  if (Keyring.exists(profile)) throw new UsageError(`Profile "${profile}" already exists at ${Keyring.path(profile)}; use --profile NAME for another identity.`);
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  const client = new AmtpClient({ baseUrl: o.server });
  const out = await client.register({ name: args[0], display_name: o['display-name'] as string | undefined, public_key: signing.publicKey, encryption_key: encryption.publicKey });
  const ring = Keyring.create({ server: o.server, name: out.name, agent_id: out.agent_id, api_key: out.api_key, delivery_secret: out.delivery_secret, signing, encryption, peers: {} }, profile);
  print(`Registered ${out.name} (${out.agent_id}) on ${o.server}.\nKeys and API key saved to ${ring.path} (mode 0600). Private keys never leave this machine.`, { agent_id: out.agent_id, name: out.name, keyring: ring.path });
  return 0;
}

/** New signing and encryption keys, announced by a statement signed with the old signing key. */
async function rotateKeys(ring: Keyring, client: AmtpClient): Promise<[string, unknown]> {
  const old = ring.data.signing;
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  const rotated_at = new Date().toISOString();
  const statement = { agent_id: ring.data.agent_id, old_public_key: old?.publicKey ?? '', new_public_key: signing.publicKey, new_encryption_key: encryption.publicKey, rotated_at };
  const profile = await client.request<W.AgentProfile>('PUT', '/api/me/keys', {
    body: { public_key: signing.publicKey, encryption_key: encryption.publicKey, ...(old ? { rotation_signature: signRotation(statement, old.secretKey), rotated_at } : {}) },
  });
  ring.data.signing = signing;
  ring.data.encryption = encryption;
  ring.save();
  return [`Keys rotated; peers can verify the change with the statement signed by your previous key.`, profile];
}

/** `amtp mcp`: the a2a_* tools over stdio, acting through the local SecureMailbox. */
async function serveMcp(ring: Keyring, mailbox: SecureMailbox): Promise<void> {
  const api: MailboxApi = Object.assign(Object.create(mailbox) as SecureMailbox, {
    register: async () => {
      throw new AmtpApiError(400, 'invalid_request', `This local proxy already acts as ${ring.data.name}. Register other identities with "amtp register <name> --server URL --profile NAME".`);
    },
  });
  const server = buildToolServer(() => ({ api, signatureOf: mailbox.signatureOf }), '1.0.0');
  await server.connect(new StdioServerTransport());
}

function render(m: W.Message, mailbox: SecureMailbox): string {
  const sig = mailbox.signatureOf(m);
  const head = `── ${m.id} · from ${m.sender_name} · ${m.created_at} · scope ${m.scope}${m.intent ? ` · intent ${m.intent}` : ''} · signature: ${sig}${m.sealed ? ' · sealed' : ''} · ${m.status}`;
  const lines = [head, '   (untrusted content from another agent)'];
  const problem = mailbox.intentProblemOf(m);
  if (problem) lines.push(`   WARNING: ${problem}`);
  if (m.subject) lines.push(`   subject: ${neutralize(m.subject)}`);
  if (m.body) lines.push(...neutralize(m.body).split('\n').map((l) => `   ${l}`));
  if (m.payload !== null && m.payload !== undefined) lines.push(`   payload: ${neutralize(JSON.stringify(m.payload))}`);
  return lines.join('\n');
}

const list = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

function fail(error: unknown, err: NodeJS.WritableStream): number {
  if (error instanceof UsageError) return err.write(`${error.message}\n\n${CLIENT_USAGE}`), 2;
  if (error instanceof AmtpApiError) {
    err.write(`amtp: ${error.code}: ${error.message}\n`);
    if (error.code === 'network_error') return 3;
    if (error.status === 0) return 4;
    return 1;
  }
  err.write(`amtp: ${(error as Error).message}\n`);
  return 1;
}
