/**
 * The `amtp` client commands: a human (or script, with --json) talking to an AMTP server through the
 * SDK. Keys are generated and kept in the local keyring; signing, sealing, verifying and opening all
 * happen here. Exit codes: 0 ok · 1 refused by the server · 2 usage (or a client-side refusal, such as
 * plain text without --plain) · 3 server unreachable · 4 verification failed (delivery MAC or keys).
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
import { scanForSecrets } from '../core/leak-scan.js';
import { buildToolServer } from '../mcp/server.js';
import { tools, type ToolContext, type ToolDef } from '../mcp/tools.js';
import type { MailboxApi } from '../protocol/api.js';
import * as W from '../protocol/schemas.js';
import { z } from 'zod';

/** Options every client command takes. */
const GLOBAL = ['json', 'profile', 'server', 'help'] as const;

const OPTIONS = {
  json: { type: 'boolean' },
  profile: { type: 'string' },
  server: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  'display-name': { type: 'string' },
  invite: { type: 'string' },
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
  'reply-by': { type: 'string' },
} as const;

type Option = keyof typeof OPTIONS;

export interface CommandHelp {
  usage: string;
  summary: string;
  options?: Option[];
}

const SEND_OPTIONS: Option[] = ['subject', 'scope', 'intent', 'payload', 'client-id', 'plain', 'reply-by'];

/** Every client command: its synopsis, its one-line summary, the options it takes besides the global ones. */
const COMMANDS: Record<string, CommandHelp> = {
  register: {
    usage: 'register <name> --server URL [--display-name X] [--invite CODE]',
    summary: 'create an agent; generates signing + encryption keys locally',
    options: ['display-name', 'invite'],
  },
  whoami: { usage: 'whoami', summary: 'this agent, unread count, notices' },
  request: { usage: 'request <agent> [--note TEXT] [--scopes a,b]', summary: 'ask an agent to connect', options: ['note', 'scopes'] },
  requests: {
    usage: 'requests [--incoming|--outgoing] [--status S]',
    summary: 'contact requests',
    options: ['incoming', 'outgoing', 'status'],
  },
  approve: { usage: 'approve <request_id> [--scopes a,b]', summary: 'approve an incoming request', options: ['scopes'] },
  decline: { usage: 'decline <request_id>', summary: 'decline (blocks the requester until you unblock them)' },
  revoke: { usage: 'revoke <agent>', summary: 'withdraw your authorization' },
  unblock: { usage: 'unblock <agent>', summary: 'lift a block you placed (declining a request blocks its sender)' },
  peers: { usage: 'peers', summary: 'every counterparty and its state' },
  send: {
    usage: 'send <agent> <text…|-> [--subject S] [--scope S] [--intent I] [--payload JSON] [--reply-to ID] [--client-id ID] [--plain]',
    summary: 'sign and seal, then send ("-" reads the text from stdin). Refuses plain text unless --plain',
    options: [...SEND_OPTIONS, 'reply-to'],
  },
  'send-a2a': {
    usage: 'send-a2a <agent-card-url> <text…|-> [--subject S] [--payload JSON] [--client-id ID]',
    summary:
      'send to an external A2A agent by its AgentCard URL (plain text: A2A has no AMTP sealing); its answer arrives in your inbox, in the thread',
    options: ['subject', 'payload', 'client-id'],
  },
  reply: {
    usage: 'reply <message_id> <text…|-> [--subject S] [--scope S] [--intent I] [--payload JSON] [--client-id ID] [--plain]',
    summary: 'answer a message, in its thread',
    options: SEND_OPTIONS,
  },
  inbox: {
    usage: 'inbox [--unread] [--limit N] [--watch]',
    summary: 'read mail (verified, opened, content shown as untrusted)',
    options: ['unread', 'limit', 'watch'],
  },
  outbox: { usage: 'outbox [--limit N]', summary: 'messages you sent, newest first, with receipt status', options: ['limit'] },
  read: { usage: 'read <message_id> | read --all', summary: 'mark read', options: ['all'] },
  thread: { usage: 'thread <thread_id>', summary: 'a whole thread' },
  status: { usage: 'status <message_id>', summary: 'queued / delivered / read, reply-by, hold, processed outcome' },
  digest: { usage: 'digest', summary: 'unread mail by peer and thread, most urgent first (start here)' },
  ack: {
    usage: 'ack <message_id> <done|failed|declined> [--note TEXT]',
    summary: 'acknowledge a received message as processed (signed)',
    options: ['note'],
  },
  capabilities: { usage: 'capabilities get <agent> | capabilities set <file.json>', summary: 'what an agent can be asked; publish yours' },
  keys: { usage: 'keys rotate', summary: 'new keys, announced with a statement signed by the old key' },
  held: {
    usage: 'held | held approve <message_id> | held discard <message_id>',
    summary: 'messages the leak guard held: list them, send one as it is, or discard it (only a person can: the MCP tools cannot)',
  },
  guard: {
    usage: 'guard | guard leak on|off | guard budget <agent|default> <per_hour|-> <per_day|->',
    summary: 'your guard rails: the leak guard, and the budgets peers get (per hour / per day; "-" for none)',
  },
  loop: { usage: 'loop clear <thread_id>', summary: 'release a thread the loop breaker stopped' },
  mcp: {
    usage: 'mcp [--server URL]',
    summary: 'local stdio MCP server with the a2a_* tools (keys stay here); without a profile it offers a2a_register',
  },
};

export const CLIENT_COMMANDS = new Set(Object.keys(COMMANDS));

export const CLIENT_USAGE = `Client (one identity per profile, kept in $AMTP_CONFIG_DIR — default ~/.config/amtp; --profile NAME for another, --json for scripts):
${Object.values(COMMANDS)
  .map((c) => (c.usage.length > 48 ? `  ${c.usage}\n${' '.repeat(53)}${c.summary}` : `  ${c.usage.padEnd(50)} ${c.summary}`))
  .join('\n')}

Exit codes: 0 ok · 1 refused by the server · 2 usage · 3 server unreachable · 4 verification failed.
`;

/** One command's help: its synopsis, summary and the options every command shares. */
export function commandHelp(command: string): string {
  const c = COMMANDS[command]!;
  return `Usage: amtp ${c.usage}

${c.summary}.

Options for every client command:
  --profile NAME   the identity to act as (default "default"), a file in $AMTP_CONFIG_DIR (default ~/.config/amtp)
  --server URL     the AMTP server, with its scheme (e.g. https://mail.example.org); default: the profile's
  --json           machine-readable output
  -h, --help       this help
`;
}

class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** Parses argv strictly, allowing only the command's own options (plus the global ones). */
function parseClientArgs(argv: string[]) {
  const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const command = parsed.positionals[0];
  const allowed = new Set<string>([...GLOBAL, ...(command && COMMANDS[command] ? (COMMANDS[command].options ?? []) : [])]);
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    const flag = token.rawName;
    if (!allowed.has(token.name)) throw new UsageError(`amtp${command ? ` ${command}` : ''}: unknown option ${flag}`, command);
    const type = OPTIONS[token.name as Option].type;
    if (type === 'string' && token.value === undefined) throw new UsageError(`amtp ${command}: ${flag} needs a value`, command);
    if (type === 'boolean' && token.inlineValue) throw new UsageError(`amtp ${command}: ${flag} takes no value`, command);
  }
  return {
    values: parsed.values as { [K in Option]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean },
    positionals: parsed.positionals,
  };
}

export async function runClient(argv: string[], io = { out: process.stdout, err: process.stderr, stdin: process.stdin }): Promise<number> {
  let parsed;
  try {
    parsed = parseClientArgs(argv);
  } catch (error) {
    return fail(error, io.err);
  }
  const { values: o, positionals } = parsed;
  const [command, ...args] = positionals;
  if (command && COMMANDS[command] && o.help) return (io.out.write(commandHelp(command)), 0);
  const print = (human: string, data: unknown) => io.out.write(o.json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);
  try {
    const server = o.server === undefined ? undefined : serverUrl(o.server);
    if (command === 'register') return await register(args, { ...o, server }, print);
    if (command === 'mcp' && !Keyring.exists(o.profile)) return (await serveMcpUnregistered(o.profile, server), -1);
    const ring = Keyring.load(o.profile);
    const client = new AmtpClient({ baseUrl: server ?? ring.data.server, apiKey: ring.data.api_key });
    const mailbox = new SecureMailbox(client, ring.data, ring, {
      plain: o.plain,
      requireSealing: command !== 'mcp',
      onWarning: (w) => io.err.write(`${w}\n`),
      leakScanner: scanForSecrets,
    });
    const need = (n: number, what: string) => {
      if (args.length < n) throw new UsageError(`amtp ${command}: missing ${what}`, command);
    };
    const me = ring.data.agent_id;
    switch (command) {
      case 'whoami': {
        const who = await mailbox.whoami();
        return (
          print(
            `${who.name} (${who.agent_id}) on ${client.baseUrl}, ${who.unread_count} unread${who.notices.map((n) => `\nNotice: ${n}`).join('')}`,
            who,
          ),
          0
        );
      }
      case 'request': {
        need(1, '<agent>');
        const r = await mailbox.requestContact({ agent_id: args[0]!, note: o.note, scopes: list(o.scopes) });
        return (print(`Request ${r.id} to ${r.to_name}: ${r.status}`, r), 0);
      }
      case 'requests': {
        const rs = await mailbox.listRequests({
          direction: o.incoming ? 'incoming' : o.outgoing ? 'outgoing' : undefined,
          status: o.status as W.RequestStatus | undefined,
        });
        return (
          print(
            rs
              .map(
                (r) =>
                  `${r.id}  ${r.from_name} → ${r.to_name}  ${r.status}  [${r.scopes.join(', ')}]${r.note ? `  “${neutralize(r.note)}”` : ''}`,
              )
              .join('\n') || 'No contact requests.',
            rs,
          ),
          0
        );
      }
      case 'approve': {
        need(1, '<request_id>');
        const r = await mailbox.approve(args[0]!, list(o.scopes));
        return (print(`Approved ${r.from_name}: you can now message each other.`, r), 0);
      }
      case 'decline': {
        need(1, '<request_id>');
        const r = await mailbox.decline(args[0]!);
        return (print(`Declined ${r.from_name}; they are blocked (amtp unblock ${r.from_name} lifts it).`, r), 0);
      }
      case 'revoke': {
        need(1, '<agent>');
        const r = await mailbox.revoke(args[0]!);
        return (print(r.revoked ? `Revoked ${args[0]}.` : `${args[0]} was not authorized.`, r), 0);
      }
      case 'unblock': {
        need(1, '<agent>');
        const r = await mailbox.unblock(args[0]!);
        return (
          print(r.unblocked ? `Unblocked ${args[0]}. They may send you a contact request again.` : `${args[0]} was not blocked.`, r),
          0
        );
      }
      case 'peers': {
        const ps = await mailbox.peers();
        return (
          print(
            ps
              .map(
                (p) =>
                  `${p.name.padEnd(24)} ${p.state.padEnd(18)} they→me [${p.my_scopes.join(', ')}]  me→they [${p.their_scopes.join(', ')}]`,
              )
              .join('\n') || 'No peers yet: amtp request <agent>.',
            ps,
          ),
          0
        );
      }
      case 'send': {
        need(2, '<agent> <text>');
        await sendAndReport(mailbox, print, { ...messageOptions(o, args.slice(1)), recipient_id: args[0]!, reply_to_id: o['reply-to'] });
        return 0;
      }
      case 'send-a2a': {
        need(2, '<agent-card-url> <text>');
        const { body, subject, payload, client_id } = messageOptions(o, args.slice(1));
        const sent = await mailbox.sendA2A({ agent_card_url: args[0]!, body, subject, payload, client_id });
        return (print(`202 queued · ${sent.id} · thread ${sent.thread_id} · the answer will come from ${sent.recipient_name}`, sent), 0);
      }
      case 'reply': {
        need(2, '<message_id> <text>');
        const original = await mailbox.message(args[0]!);
        const recipient = original.sender_id === me ? original.recipient_id : original.sender_id;
        const subject = o.subject ?? (original.subject ? `Re: ${original.subject.replace(/^Re: /i, '')}` : undefined);
        const input = {
          ...messageOptions(o, args.slice(1)),
          subject,
          scope: o.scope ?? original.scope,
          recipient_id: recipient,
          reply_to_id: original.id,
        };
        await sendAndReport(mailbox, print, input);
        return 0;
      }
      case 'inbox': {
        const show = (ms: W.Message[]) => print(ms.map((m) => render(m, mailbox, me)).join('\n\n') || 'No messages.', ms);
        if (!o.watch) {
          const out = await mailbox.inbox({ unread_only: o.unread ?? false, limit: count(o.limit) });
          const text = out.messages.map((m) => render(m, mailbox, me)).join('\n\n');
          return (print(`${out.unread_count} unread\n\n${text || 'No messages.'}`, out), 0);
        }
        for await (const event of client.stream()) {
          if (event.type !== 'message.received' || !event.data.message) continue;
          show([await mailbox.receive(event.data.message as W.Message)]);
        }
        return 0;
      }
      case 'outbox': {
        const out = await mailbox.outbox({ limit: count(o.limit) });
        return (print(out.messages.map((m) => render(m, mailbox, me)).join('\n\n') || 'No sent messages.', out), 0);
      }
      case 'read': {
        if (o.all) {
          const r = await mailbox.markAllRead();
          return (print(`Marked ${r.marked} read.`, r), 0);
        }
        need(1, '<message_id> or --all');
        const m = await mailbox.markRead(args[0]!);
        return (print(`Marked ${m.id} read.`, m), 0);
      }
      case 'thread': {
        need(1, '<thread_id>');
        const t = await mailbox.thread(args[0]!);
        return (print(t.messages.map((m) => render(m, mailbox, me)).join('\n\n'), t), 0);
      }
      case 'status': {
        need(1, '<message_id>');
        const m = await mailbox.message(args[0]!);
        const receipt = m.processed ? await mailbox.receiptStatus(m) : null;
        return (
          print(
            `${m.id} → ${m.recipient_name}: ${m.status}${m.delivered_at ? ` (delivered ${m.delivered_at})` : ''}${m.read_at ? ` (read ${m.read_at})` : ''}${attentionLine(m, receipt)}`,
            m,
          ),
          0
        );
      }
      case 'digest': {
        const d = await mailbox.digest();
        return (print(digestLines(d), d), 0);
      }
      case 'ack': {
        need(2, '<message_id> <done|failed|declined>');
        const outcome = W.ProcessedOutcome.safeParse(args[1]);
        if (!outcome.success) throw new UsageError('amtp ack: the outcome is done, failed or declined', command);
        const m = await mailbox.ack(args[0]!, { outcome: outcome.data, ...(o.note === undefined ? {} : { note: o.note }) });
        return (print(`Acknowledged ${m.id} as ${outcome.data}${m.processed?.ed25519_signature ? ' (signed)' : ''}.`, m), 0);
      }
      case 'capabilities': {
        if (args[0] === 'get' && args[1]) {
          const c = await mailbox.capabilities(args[1]);
          return (
            print(
              c.capabilities.map((x) => `${x.id}: ${x.title}${x.description ? ` — ${x.description}` : ''}`).join('\n') ||
                'No capabilities published.',
              c,
            ),
            0
          );
        }
        if (args[0] === 'set' && args[1]) {
          const file = parseJson(readFileSync(args[1], 'utf8'), args[1]);
          // The server validates the list; here it is only passed on.
          const list = Array.isArray(file) ? file : (file as { capabilities?: unknown } | null)?.capabilities;
          const c = await mailbox.setCapabilities(list as Parameters<SecureMailbox['setCapabilities']>[0]);
          return (print(`Published ${c.capabilities.length} capabilities.`, c), 0);
        }
        throw new UsageError('amtp capabilities: say "get <agent>" or "set <file.json>"', command);
      }
      case 'keys': {
        if (args[0] !== 'rotate') throw new UsageError('amtp keys: the only subcommand is "rotate"', command);
        return (print(...(await rotateKeys(ring, client))), 0);
      }
      case 'held':
        return (print(...(await heldCommand(client, args, command))), 0);
      case 'guard':
        return (print(...(await guardCommand(client, args, command))), 0);
      case 'loop': {
        if (args[0] !== 'clear' || !args[1]) throw new UsageError('amtp loop: say "clear <thread_id>"', command);
        const r = await client.clearLoop(args[1]);
        return (
          print(
            r.cleared
              ? `Cleared the loop flag on ${args[1]}: automatic messages pass again.`
              : `${args[1]} was not stopped by the loop breaker.`,
            r,
          ),
          0
        );
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

/** The content options of send and reply; the text is the remaining arguments, or stdin for "-". */
function messageOptions(o: Partial<Record<Option, string | boolean>>, text: string[]) {
  return {
    body: text[0] === '-' && text.length === 1 ? readFileSync(0, 'utf8') : text.join(' '),
    subject: o.subject as string | undefined,
    scope: (o.scope as string | undefined) ?? 'message',
    intent: o.intent as string | undefined,
    payload: o.payload === undefined ? undefined : parseJson(o.payload as string, '--payload'),
    client_id: o['client-id'] as string | undefined,
    // A person typed this at the command line (SPEC §17.3); `amtp mcp` never sets it.
    origin: 'human' as const,
    reply_by: o['reply-by'] as string | undefined,
  };
}

async function heldCommand(client: AmtpClient, args: string[], command: string): Promise<[string, unknown]> {
  if (args.length === 0) {
    const held = await client.held();
    const lines = held.map(
      (h) =>
        `${h.id} → ${h.recipient_name} (${h.created_at})\n  found: ${h.reasons.join('; ')}${h.body !== null ? `\n  ${h.body}` : h.sealed_for_sender ? '\n  (sealed)' : ''}`,
    );
    return [lines.join('\n') || 'No held messages.', held];
  }
  if (args[0] === 'approve' && args[1]) {
    const sent = await client.approveHeld(args[1]);
    return [`Approved: 202 queued · ${sent.id} · thread ${sent.thread_id}`, sent];
  }
  if (args[0] === 'discard' && args[1]) {
    const r = await client.discardHeld(args[1]);
    return [r.discarded ? `Discarded ${args[1]}: it is never sent.` : `${args[1]} was already gone.`, r];
  }
  throw new UsageError('amtp held: say nothing (list), "approve <message_id>" or "discard <message_id>"', command);
}

async function guardCommand(client: AmtpClient, args: string[], command: string): Promise<[string, unknown]> {
  const limit = (v: string | undefined) => (v === undefined || v === '-' ? null : count(v));
  if (args[0] === 'leak' && (args[1] === 'on' || args[1] === 'off')) {
    const g = await client.setGuard({ leak_guard: args[1] === 'on' });
    return [`Leak guard ${g.leak_guard ? 'on' : 'off'}.`, g];
  }
  if (args[0] === 'budget' && args[1]) {
    const budget = { per_hour: limit(args[2]), per_day: limit(args[3]) };
    const out = args[1] === 'default' ? await client.setGuard({ default_budget: budget }) : await client.setBudget(args[1], budget);
    return [`Budget ${args[1]}: ${budget.per_hour ?? '∞'}/hour, ${budget.per_day ?? '∞'}/day.`, out];
  }
  if (args.length === 0) {
    const g = await client.guard();
    const per = (b: { per_hour: number | null; per_day: number | null }) => `${b.per_hour ?? '∞'}/hour, ${b.per_day ?? '∞'}/day`;
    return [
      [
        `Leak guard ${g.leak_guard ? 'on' : 'off'}`,
        `Default budget: ${per(g.default_budget)}`,
        ...g.budgets.map((b) => `Budget ${b.sender_id}: ${per(b)}`),
      ].join('\n'),
      g,
    ];
  }
  throw new UsageError('amtp guard: say nothing (show), "leak on|off" or "budget <agent|default> <per_hour|-> <per_day|->"', command);
}

/** Reply-by, hold and processed outcome of a message, for `status` (empty when none). */
function attentionLine(m: W.Message, receipt: string | null): string {
  const parts = [
    m.reply_by
      ? `reply by ${m.reply_by}: ${m.deadline?.state ?? 'pending'}${m.deadline?.note ? ` (“${neutralize(m.deadline.note)}”)` : ''}`
      : '',
    m.held_until ? `held by quiet hours until ${m.held_until}` : '',
    m.processed
      ? `processed: ${m.processed.outcome}${m.processed.note ? ` (“${neutralize(m.processed.note)}”)` : ''}, receipt ${receipt}`
      : '',
  ].filter(Boolean);
  return parts.map((p) => `\n  ${p}`).join('');
}

function digestLines(d: W.DigestOutput): string {
  const head = `${d.unread_count} unread${d.held_count ? ` (${d.held_count} more held by quiet hours)` : ''}`;
  const groups = d.peers.map((p) => {
    const flags = p.flags.length ? `  [${p.flags.join(', ')}]` : '';
    const threads = p.threads.map(
      (t) =>
        `    ${t.thread_id}  ${t.unread_count} unread${t.nearest_reply_by ? `, reply by ${t.nearest_reply_by}` : ''}${t.latest?.snippet ? `  “${neutralize(t.latest.snippet)}”` : ''}`,
    );
    return [
      `${p.peer_name}  ${p.unread_count} unread${flags}${p.contact_request_id ? `  (contact request ${p.contact_request_id})` : ''}`,
      ...threads,
    ].join('\n');
  });
  return [head, ...groups].join('\n');
}

async function sendAndReport(mailbox: SecureMailbox, print: (h: string, d: unknown) => void, input: W.SendInput): Promise<void> {
  const { sent, sealed, signed } = await mailbox.sendReporting(input);
  if (sent.status === 'held_for_approval') {
    return print(
      `HELD for approval · ${sent.id} · the leak guard found what looks like a secret. Send it as it is with "amtp held approve ${sent.id}", or "amtp held discard ${sent.id}".`,
      { ...sent, sealed, signed },
    );
  }
  const protection = `${sealed ? 'sealed end to end' : 'NOT sealed (plain text: the server can read it)'}, ${signed ? 'signed' : 'NOT signed'}`;
  print(`202 queued · ${sent.id} · thread ${sent.thread_id} · ${protection}`, { ...sent, sealed, signed });
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}

function count(value: string | undefined): number {
  if (value === undefined) return 50;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new UsageError(`--limit must be a whole number from 1 to 200, not "${value}"`);
  return n;
}

/** A server URL as typed by a person: it needs its scheme; a trailing /api is the API's path, not the server's. */
export function serverUrl(value: string): string {
  if (!/^https?:\/\//i.test(value)) {
    const loopback = /^(localhost|127\.|\[::1\])/i.test(value);
    throw new UsageError(`--server needs a URL with its scheme: write --server ${loopback ? 'http' : 'https'}://${value}`);
  }
  try {
    new URL(value);
  } catch {
    throw new UsageError(`--server "${value}" is not a valid URL; write it like https://mail.example.org`);
  }
  return value;
}

async function register(
  args: string[],
  o: { profile?: string; server?: string; 'display-name'?: string; invite?: string },
  print: (h: string, d: unknown) => void,
): Promise<number> {
  if (!args[0] || o.server === undefined)
    throw new UsageError('amtp register: give the agent name and the server: amtp register <name> --server URL', 'register');
  const { ring, out } = await createProfile(o.profile ?? 'default', o.server, {
    name: args[0],
    display_name: o['display-name'],
    invite: o.invite,
  });
  print(
    `Registered ${out.name} (${out.agent_id}) on ${o.server}.\nKeys and API key saved to ${ring.path} (mode 0600). Private keys never leave this machine.`,
    { agent_id: out.agent_id, name: out.name, keyring: ring.path },
  );
  return 0;
}

/** Registers an agent with locally generated keys and saves the profile. */
async function createProfile(profile: string, server: string, input: { name: string; display_name?: string; invite?: string }) {
  if (Keyring.exists(profile))
    throw new UsageError(`Profile "${profile}" already exists at ${Keyring.path(profile)}; use --profile NAME for another identity.`);
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  const out = await new AmtpClient({ baseUrl: server }).register({
    ...input,
    public_key: signing.publicKey,
    encryption_key: encryption.publicKey,
  });
  const ring = Keyring.create(
    {
      server,
      name: out.name,
      agent_id: out.agent_id,
      api_key: out.api_key,
      delivery_secret: out.delivery_secret,
      signing,
      encryption,
      peers: {},
    },
    profile,
  );
  return { ring, out };
}

/** New signing and encryption keys, announced by a statement signed with the old signing key. */
async function rotateKeys(ring: Keyring, client: AmtpClient): Promise<[string, unknown]> {
  const old = ring.data.signing;
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  const rotated_at = new Date().toISOString();
  const statement = {
    agent_id: ring.data.agent_id,
    old_public_key: old?.publicKey ?? '',
    new_public_key: signing.publicKey,
    new_encryption_key: encryption.publicKey,
    rotated_at,
  };
  const profile = await client.request<W.AgentProfile>('PUT', '/api/me/keys', {
    body: {
      public_key: signing.publicKey,
      encryption_key: encryption.publicKey,
      ...(old ? { rotation_signature: signRotation(statement, old.secretKey), rotated_at } : {}),
    },
  });
  ring.data.signing = signing;
  ring.data.encryption = encryption;
  ring.save();
  return [`Keys rotated; peers can verify the change with the statement signed by your previous key.`, profile];
}

/** `amtp mcp`: the a2a_* tools over stdio, acting through the local SecureMailbox. */
async function serveMcp(ring: Keyring, mailbox: SecureMailbox): Promise<void> {
  const context = proxyContext(ring, mailbox);
  const alreadyRegistered = async (): Promise<ProxyRegistration> => {
    throw new AmtpApiError(
      400,
      'invalid_request',
      `This local proxy already acts as ${ring.data.name}. Register other identities with "amtp register <name> --server URL --profile NAME".`,
    );
  };
  const server = buildToolServer(() => context, VERSION, proxyTools(alreadyRegistered));
  await server.connect(new StdioServerTransport());
}

/**
 * `amtp mcp` with no profile yet: it starts anyway, so the MCP client sees tools rather than a closed
 * connection. a2a_register creates the profile (keys generated here); every other tool says what to do.
 */
async function serveMcpUnregistered(profile = 'default', defaultServer?: string): Promise<void> {
  const missing = new AmtpApiError(
    401,
    'invalid_api_key',
    `No amtp profile "${profile}" yet (${Keyring.path(profile)}). Call a2a_register with a name and the server URL, or run "amtp register <name> --server URL" in a terminal.`,
  );
  let context: ToolContext = {
    api: new Proxy({} as MailboxApi, {
      get: () => async () => {
        throw missing;
      },
    }),
    signatureOf: () => 'not checked',
    selfId: async () => {
      throw missing;
    },
  };
  const registerHere = async (args: {
    name: string;
    display_name?: string;
    invite?: string;
    server?: string;
  }): Promise<ProxyRegistration> => {
    const server = args.server === undefined ? defaultServer : serverUrl(args.server);
    if (!server)
      throw new AmtpApiError(
        400,
        'invalid_request',
        'Give the AMTP server URL as the "server" argument (e.g. https://mail.example.org), or start this proxy with "amtp mcp --server URL".',
      );
    if (Keyring.exists(profile))
      throw new AmtpApiError(
        400,
        'invalid_request',
        `Profile "${profile}" already exists at ${Keyring.path(profile)}; restart this MCP server to use it.`,
      );
    const { ring, out } = await createProfile(profile, server, { name: args.name, display_name: args.display_name, invite: args.invite });
    const onWarning = (w: string) => process.stderr.write(`${w}\n`);
    context = proxyContext(
      ring,
      new SecureMailbox(new AmtpClient({ baseUrl: server, apiKey: ring.data.api_key }), ring.data, ring, {
        onWarning,
        leakScanner: scanForSecrets,
      }),
    );
    return { agent_id: out.agent_id, name: out.name, server, keyring: ring.path };
  };
  const server = buildToolServer(() => context, VERSION, proxyTools(registerHere));
  await server.connect(new StdioServerTransport());
}

const VERSION = '1.0.0';

function proxyContext(ring: Keyring, mailbox: SecureMailbox): ToolContext {
  return {
    api: mailbox,
    signatureOf: mailbox.signatureOf,
    selfId: async () => ring.data.agent_id,
    sendReport: mailbox.sendReporting.bind(mailbox),
  };
}

/**
 * The proxy's tool table: the shared tools, with a2a_register replaced — keys are generated and the
 * API key is saved here, so neither reaches the model.
 */
type ProxyRegistration = { agent_id: string; name: string; server: string; keyring: string };

function proxyTools(
  registerHere: (args: { name: string; display_name?: string; invite?: string; server?: string }) => Promise<ProxyRegistration>,
): ToolDef[] {
  const register: ToolDef = {
    ...tools.find((t) => t.name === 'a2a_register')!,
    description:
      'Create this agent’s mailbox on an AMTP server. Signing and encryption keys are generated here and the API key is saved in the local profile: none of them is shown. Needs no key.',
    input: {
      name: W.AgentName.describe('Unique handle: 3–32 lowercase letters, digits or "-"'),
      display_name: W.RegisterInput.shape.display_name,
      invite: W.RegisterInput.shape.invite.describe('Invite code, if the server registers by invitation only'),
      server: z
        .string()
        .max(2000)
        .optional()
        .describe('The AMTP server URL, e.g. https://mail.example.org (default: the --server the proxy was started with)'),
    },
    output: z.object({ agent_id: W.AgentId, name: W.AgentName, server: z.string(), keyring: z.string() }),
    run: async (_ctx, args: Parameters<typeof registerHere>[0]) => {
      const out = await registerHere(args);
      return {
        data: out,
        text: `Registered ${out.name} as ${out.agent_id} on ${out.server}. Keys and API key are saved in ${out.keyring}; nothing secret is shown here.`,
      };
    },
  };
  return tools.map((t) => (t.name === 'a2a_register' ? register : t));
}

function render(m: W.Message, mailbox: SecureMailbox, me: string): string {
  if (m.sender_id === me) {
    const lines = [
      `── ${m.id} · thread ${m.thread_id} · to ${m.recipient_name} · ${m.created_at} · scope ${m.scope}${m.intent ? ` · intent ${m.intent}` : ''}${m.sealed ? ' · sealed' : ''} · ${m.status} · sent by you`,
    ];
    return lines.concat(contentLines(m)).join('\n');
  }
  const sig = mailbox.signatureOf(m);
  const head = `── ${m.id} · thread ${m.thread_id} · from ${m.sender_name} · ${m.created_at} · scope ${m.scope}${m.intent ? ` · intent ${m.intent}` : ''} · signature: ${sig}${m.sealed ? ' · sealed' : ''} · ${m.status}`;
  const lines = [head, '   (untrusted content from another agent)'];
  const problem = mailbox.intentProblemOf(m);
  if (problem) lines.push(`   WARNING: ${problem}`);
  return lines.concat(contentLines(m)).join('\n');
}

function contentLines(m: W.Message): string[] {
  const lines: string[] = [];
  if (m.subject) lines.push(`   subject: ${neutralize(m.subject)}`);
  if (m.body)
    lines.push(
      ...neutralize(m.body)
        .split('\n')
        .map((l) => `   ${l}`),
    );
  if (m.payload !== null && m.payload !== undefined) lines.push(`   payload: ${neutralize(JSON.stringify(m.payload))}`);
  return lines;
}

const list = (value: string | undefined) =>
  value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

function fail(error: unknown, err: NodeJS.WritableStream): number {
  if (error instanceof UsageError) {
    const usage =
      error.command && COMMANDS[error.command]
        ? `Usage: amtp ${COMMANDS[error.command]!.usage}\n(amtp ${error.command} --help for more)\n`
        : 'Run "amtp --help" for the commands.\n';
    return (err.write(`${error.message}\n${usage}`), 2);
  }
  if (error instanceof AmtpApiError) {
    err.write(`amtp: ${error.code}: ${error.message}\n`);
    if (error.code === 'network_error') return 3;
    if (error.status === 0) return error.code === 'invalid_signature' ? 4 : 2;
    return 1;
  }
  err.write(`amtp: ${(error as Error).message}\n`);
  return 1;
}
