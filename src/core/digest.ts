/**
 * The triage digest: an agent's unread mail (not held by its quiet hours) grouped by peer, then by
 * thread, each group with its counts, time span, intents and scopes, nearest reply-by deadline and the
 * flags that need the human — ranked most urgent first (the rule is SPEC "Triage digest"; `rank`).
 */
import { createHash } from 'node:crypto';
import { verifyMessageSignatureNode } from '../crypto/node-verify.js';
import { messageSigningInput } from '../crypto/sign.js';
import { DIGEST_FLAGS, type DigestFlag, type DigestOutput, type DigestPeer, type DigestThread } from '../protocol/schemas.js';
import type { AgentRecord, LoopRecord, MessageRecord } from '../store/types.js';
import type { Caller, CoreDeps } from './context.js';
import { endOfLocalDay } from './quiet-hours.js';

/** At most this many unread messages are grouped (the oldest); `truncated` says when there are more. */
export const DIGEST_MAX_MESSAGES = 1000;
/** A peer whose keys changed (rotation or reset) this recently is flagged. */
export const KEYS_CHANGED_WINDOW_MS = 7 * 86_400_000;
/** Deadlines you set that were missed or declined this recently are shown to you. */
export const SETTLED_DEADLINES_WINDOW_MS = 7 * 86_400_000;
const SNIPPET_CHARS = 160;

interface Now {
  ms: number;
  /** The end of the caller's local day (its quiet-hours time zone, else UTC). */
  dayEnd: number;
}

export async function buildDigest(deps: CoreDeps, caller: Caller): Promise<DigestOutput> {
  const { store, config } = deps;
  const ms = config.clock.now();
  const now: Now = { ms, dayEnd: endOfLocalDay(ms, caller.quiet_hours?.time_zone ?? 'UTC') };
  const [unread, settled, requests, loops] = await Promise.all([
    store.inbox(caller.id, { unreadOnly: true, order: 'asc', limit: DIGEST_MAX_MESSAGES + 1 }),
    store.settledDeadlines(caller.id, new Date(ms - SETTLED_DEADLINES_WINDOW_MS).toISOString()),
    store.requests(caller.id, { direction: 'incoming', status: 'pending' }),
    store.loopsInvolving(caller.id),
  ]);
  // Threads the loop breaker stopped (issue 19), by the peer on the other side.
  const loopPeer = (l: LoopRecord) => (l.agent_a === caller.id ? l.agent_b : l.agent_a);
  const grouped = unread.slice(0, DIGEST_MAX_MESSAGES);
  const isHeld = (m: MessageRecord) => m.held_until != null && Date.parse(m.held_until) > ms;
  const fresh = grouped.filter((m) => !isHeld(m));
  const peerIds = [
    ...new Set([
      ...fresh.map((m) => m.sender_id),
      ...settled.map((m) => m.recipient_id),
      ...requests.map((r) => r.from_id),
      ...loops.map(loopPeer),
    ]),
  ];
  const agents = new Map((await store.agentsByIds(peerIds)).map((a) => [a.id, a]));
  const peers = peerIds.flatMap((id) => {
    const peer = agents.get(id);
    if (!peer) return [];
    const request = requests.find((r) => r.from_id === id) ?? null;
    const stopped = new Set(loops.filter((l) => loopPeer(l) === id).map((l) => l.thread_id));
    return [
      peerGroup(
        peer,
        fresh.filter((m) => m.sender_id === id),
        settled.filter((m) => m.recipient_id === id),
        request?.id ?? null,
        stopped,
        now,
      ),
    ];
  });
  return {
    generated_at: new Date(ms).toISOString(),
    unread_count: fresh.length,
    held_count: grouped.filter(isHeld).length,
    truncated: unread.length > DIGEST_MAX_MESSAGES,
    peers: peers.sort(byUrgency((p) => p.peer_name)),
  };
}

function peerGroup(
  peer: AgentRecord,
  received: MessageRecord[],
  settled: MessageRecord[],
  requestId: string | null,
  stopped: Set<string>,
  now: Now,
): DigestPeer {
  const threadIds = [...new Set([...[...received, ...settled].map((m) => m.thread_id), ...stopped])];
  const keysChanged = keysChangedRecently(peer, now.ms);
  const threads = threadIds
    .map((id) =>
      threadGroup(
        id,
        peer,
        received.filter((m) => m.thread_id === id),
        settled.filter((m) => m.thread_id === id),
        keysChanged,
        stopped.has(id),
        now,
      ),
    )
    .sort(byUrgency((t) => t.thread_id));
  const extra: DigestFlag[] = [...(requestId ? (['contact_request'] as const) : []), ...(keysChanged ? (['keys_changed'] as const) : [])];
  return {
    peer_id: peer.id,
    peer_name: peer.name,
    ...counts(received, [...threads.flatMap((t) => t.flags), ...extra], now),
    contact_request_id: requestId,
    threads,
  };
}

function threadGroup(
  thread_id: string,
  peer: AgentRecord,
  received: MessageRecord[],
  settled: MessageRecord[],
  keysChanged: boolean,
  looping: boolean,
  now: Now,
): DigestThread {
  const flags: DigestFlag[] = looping ? ['loop_detected'] : [];
  if (settled.some((m) => m.deadline_state === 'missed')) flags.push('deadline_missed');
  if (received.some((m) => !signatureHolds(m, peer))) flags.push('signature_failed');
  if (keysChanged && received.length) flags.push('keys_changed');
  const latest = received.at(-1);
  return {
    thread_id,
    ...counts(received, flags, now),
    message_ids: received.map((m) => m.id),
    latest: latest
      ? {
          message_id: latest.id,
          subject: latest.subject,
          snippet: latest.sealed ? null : snippet(latest.body),
          sealed: latest.sealed !== null,
          untrusted: true,
        }
      : null,
    your_deadlines: settled.map((m) => ({
      message_id: m.id,
      reply_by: m.reply_by!,
      state: m.deadline_state!,
      note: m.deadline_note ?? null,
    })),
  };
}

/** Counts, span, intents, scopes, nearest deadline of `messages`, and the flags (given, plus the deadlines'), in rank order. */
function counts(messages: MessageRecord[], given: DigestFlag[], now: Now) {
  const flags = new Set(given);
  const pending = messages
    .filter((m) => m.deadline_state === 'pending' && m.reply_by)
    .map((m) => m.reply_by!)
    .sort();
  if (messages.some((m) => m.deadline_state === 'missed')) flags.add('deadline_missed');
  if (pending.some((t) => Date.parse(t) < now.dayEnd)) flags.add('deadline_today');
  return {
    unread_count: messages.length,
    oldest_at: messages[0]?.created_at ?? null,
    newest_at: messages.at(-1)?.created_at ?? null,
    intents: distinct(messages.map((m) => m.intent)),
    scopes: distinct(messages.map((m) => m.scope)),
    nearest_reply_by: pending[0] ?? null,
    flags: DIGEST_FLAGS.filter((f) => flags.has(f)),
  };
}

/**
 * The ranking rule: the group whose most urgent flag ranks highest (DIGEST_FLAGS order) first, groups
 * without flags last; then the nearest pending reply-by; then the oldest unread message; then `name`.
 */
function byUrgency<T extends { flags: DigestFlag[]; nearest_reply_by: string | null; oldest_at: string | null }>(name: (g: T) => string) {
  const top = (g: T) => (g.flags.length ? DIGEST_FLAGS.indexOf(g.flags[0]!) : DIGEST_FLAGS.length);
  const orLast = (v: string | null) => v ?? '\uffff';
  return (a: T, b: T) =>
    top(a) - top(b) ||
    orLast(a.nearest_reply_by).localeCompare(orLast(b.nearest_reply_by)) ||
    orLast(a.oldest_at).localeCompare(orLast(b.oldest_at)) ||
    name(a).localeCompare(name(b));
}

function keysChangedRecently(peer: AgentRecord, nowMs: number): boolean {
  const changed = [peer.key_rotation?.rotated_at, peer.keys_reset_at].filter((t): t is string => !!t).map(Date.parse);
  return changed.some((t) => nowMs - t <= KEYS_CHANGED_WINDOW_MS);
}

/**
 * The server verified every signature on arrival; re-checking against the key valid when it was signed
 * (the rotated-away key for mail signed before a rotation) catches a stored message altered since.
 * Mail signed before a key reset cannot be checked any more: that is the keys_changed flag's business.
 */
function signatureHolds(m: MessageRecord, sender: AgentRecord): boolean {
  if (!m.ed25519_signature || !m.sig_nonce || !m.signed_at) return true;
  const rotation = sender.key_rotation;
  const key = rotation && m.signed_at < rotation.rotated_at ? rotation.old_public_key : sender.public_key;
  if (!key || (sender.keys_reset_at && m.signed_at < sender.keys_reset_at)) return true;
  const fields = { ...m, sig_nonce: m.sig_nonce, signed_at: m.signed_at };
  // An ed25519 verification costs far more than hashing what it covers: each stored message is
  // verified once per process, and again only if anything it signs (or the key) changed since.
  const id = createHash('sha256').update(messageSigningInput(fields)).update(`\n${m.ed25519_signature}\n${key}`).digest('base64url');
  let holds = verified.get(id);
  if (holds === undefined) {
    holds = verifyMessageSignatureNode(fields, m.ed25519_signature, key);
    if (verified.size >= VERIFIED_CACHE) verified.delete(verified.keys().next().value!);
    verified.set(id, holds);
  }
  return holds;
}

/** Verification outcomes by what was verified (see signatureHolds); oldest dropped first. */
const verified = new Map<string, boolean>();
const VERIFIED_CACHE = 100_000;

const distinct = (values: (string | null)[]) => [...new Set(values.filter((v): v is string => v !== null))].sort();
const snippet = (body: string | null) => (body === null ? null : body.replace(/\s+/g, ' ').trim().slice(0, SNIPPET_CHARS));
