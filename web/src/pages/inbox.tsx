import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { SecureMailbox } from '../../../src/client/secure.js';
import type { Capability, Conversation, DigestOutput, Message, Peer } from '../../../src/protocol/schemas.js';
import { refreshAll, useLive } from '../live.js';
import { clientFor, errorText, loadDraft, mailboxFor, receiveMessages, saveDraft, type Session } from '../session.js';
import { Empty, ErrorNote, PeerName, useAsync, when } from '../ui.js';
import { field } from '../form.js';

const PAGE = 50;
/** Text of the messages this tab has opened (sealed ones included), per peer, for client-side search. */
const searchIndex = new Map<string, Map<string, string>>();
const textOf = (m: Message) =>
  [m.subject, m.body, m.intent, m.payload == null ? null : JSON.stringify(m.payload)].filter(Boolean).join(' ');
const remember = (peerId: string, messages: Message[]) => {
  const index = searchIndex.get(peerId) ?? new Map<string, string>();
  for (const m of messages) index.set(m.id, textOf(m).toLowerCase());
  searchIndex.set(peerId, index);
};

interface Entry {
  peer: Peer | null;
  peer_id: string;
  name: string;
  unread: number;
  last: Message | null;
}

/** Conversations (one per peer, live), the selected one's messages, compose; j/k/r and / from the keyboard. */
export function Inbox({ session, peerRef }: { session: Session; peerRef: string | null }) {
  const live = useLive();
  const api = clientFor(session);
  const lists = useAsync(() => Promise.all([api.conversations(), api.peers()]), [live]);
  const me = useAsync(() => api.whoami(), []);
  const [query, setQuery] = useState('');
  const search = useRef<HTMLInputElement>(null);

  const [conversations, peers] = lists.data ?? [[], []];
  const entries = buildEntries(conversations, peers);
  const q = query.trim().toLowerCase();
  const shown = q
    ? entries.filter(
        (e) =>
          `${e.name} ${e.peer?.display_name ?? ''}`.toLowerCase().includes(q) ||
          [...(searchIndex.get(e.peer_id)?.values() ?? [])].some((t) => t.includes(q)),
      )
    : entries;
  const selected = entries.find((e) => e.peer_id === peerRef || e.name === peerRef) ?? null;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (e.metaKey || e.ctrlKey || e.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable) return;
      if (e.key === '/') {
        e.preventDefault();
        search.current?.focus();
      } else if (e.key === 'j' || e.key === 'k') {
        const i = shown.findIndex((x) => x === selected);
        const next = shown[Math.max(0, Math.min(shown.length - 1, i + (e.key === 'j' ? 1 : -1)))];
        if (next) location.hash = `#/inbox/${encodeURIComponent(next.name)}`;
      } else if (e.key === 'r') {
        const body = document.getElementById('compose-body');
        if (body) {
          e.preventDefault();
          body.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <section aria-labelledby="inbox-title" class={`inbox ${selected ? 'has-thread' : ''}`}>
      <h1 id="inbox-title" tabIndex={-1}>
        Inbox
      </h1>
      {!session.delivery_secret && (
        <p class="warning">
          Add your delivery secret in Settings: without it messages cannot be verified, and sealed ones cannot be shown.
        </p>
      )}
      <ErrorNote error={lists.error} />
      <Attention session={session} live={live} />
      <div class="split">
        <nav aria-label="Conversations" class="conversations">
          <input
            ref={search}
            type="search"
            class="search"
            aria-label="Search conversations (/)"
            placeholder="Search  /"
            value={query}
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          />
          {lists.data && entries.length === 0 && <Empty>No conversations yet. Connect with someone on the Network page first.</Empty>}
          {q && shown.length === 0 && <p class="muted">Nothing matches in the conversations opened here.</p>}
          <ul>
            {shown.map((e) => (
              <li key={e.peer_id}>
                <a
                  href={`#/inbox/${encodeURIComponent(e.name)}`}
                  class={`conv ${selected === e ? 'active' : ''}`}
                  aria-current={selected === e ? 'true' : undefined}
                  data-testid={`conv-${e.name}`}
                >
                  <span class="conv-head">
                    <PeerName display={e.peer?.display_name} handle={e.name} strong />
                    {e.unread > 0 && (
                      <span class="count" data-testid="unread" aria-label={`${e.unread} unread`}>
                        {e.unread}
                      </span>
                    )}
                  </span>
                  <Preview session={session} last={e.last} />
                </a>
              </li>
            ))}
          </ul>
          <p class="muted keys-hint">Keys: j / k move, r replies, / searches.</p>
        </nav>
        <div class="pair">
          {selected ? (
            <Thread key={selected.peer_id} session={session} entry={selected} live={live} mySigningKey={me.data?.public_key ?? null} />
          ) : (
            <Empty>Pick a conversation.</Empty>
          )}
        </div>
      </div>
    </section>
  );
}

/** Conversations first (newest activity first), then mutual peers with no messages yet. */
function buildEntries(conversations: Conversation[], peers: Peer[]): Entry[] {
  const byId = new Map(peers.map((p) => [p.agent_id, p]));
  const talked = conversations.map((c) => ({
    peer: byId.get(c.peer_id) ?? null,
    peer_id: c.peer_id,
    name: c.peer_name,
    unread: c.unread_count,
    last: c.last_message,
  }));
  const fresh = peers
    .filter((p) => p.state === 'mutual' && !conversations.some((c) => c.peer_id === p.agent_id))
    .map((p) => ({ peer: p, peer_id: p.agent_id, name: p.name, unread: 0, last: null }));
  return [...talked, ...fresh];
}

/** The last message's snippet, opened here when it is sealed and this browser holds the key. */
function Preview({ session, last }: { session: Session; last: Message | null }) {
  const mailbox = mailboxFor(session);
  const opened = useAsync(async () => (last && mailbox ? (await receiveMessages(mailbox, [last]))[0] : last), [last?.id, last?.status]);
  if (!last) return <span class="muted preview">New conversation — say hello</span>;
  const m = opened.data;
  const mine = last.sender_id === session.agent_id;
  let text = '…';
  if (m && mailbox?.failureOf(m)) text = '⚠ could not be verified';
  else if (m && isUnopened(m)) text = 'Sealed message (no key in this browser)';
  else if (m) text = m.subject || m.body || (m.intent ? `Request: ${m.intent}` : '');
  return (
    <span class="muted preview">
      {mine ? 'You: ' : ''}
      <bdi>{text}</bdi>
    </span>
  );
}

const isUnopened = (m: Message) => Boolean(m.sealed) && m.subject === null && m.body === null && m.payload === null;

function Thread({ session, entry, live, mySigningKey }: { session: Session; entry: Entry; live: number; mySigningKey: string | null }) {
  const api = clientFor(session);
  const mailbox = mailboxFor(session);
  const peerId = entry.peer_id;
  const [messages, setMessages] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const list = useRef<HTMLOListElement>(null);
  const top = useRef<HTMLLIElement>(null);
  /** How to keep the view steady after the next render: stick to the bottom, or keep the same message in place. */
  const anchor = useRef<{ kind: 'bottom' } | { kind: 'keep'; height: number; scroll: number } | null>({ kind: 'bottom' });
  const myCaps = useAsync(() => api.capabilities(session.agent_id), []);
  const theirCaps = useAsync(() => api.capabilities(peerId), [peerId]);

  const open = async (page: Message[]) => {
    const shown = mailbox ? await receiveMessages(mailbox, page) : page;
    remember(peerId, shown);
    return shown.reverse();
  };

  // The newest page on open and on every live event, merged in place: drafts and scroll stay put.
  useEffect(() => {
    let alive = true;
    (async () => {
      const page = await api.conversation(peerId, { limit: PAGE });
      const shown = await open(page.messages);
      if (!alive) return;
      const el = list.current;
      const nearBottom = !el || el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      if (nearBottom && !anchor.current) anchor.current = { kind: 'bottom' };
      setMessages((prev) => merge(prev, shown));
      setCursor((c) => (c === undefined ? page.next_cursor : c));
      setError(null);
      // Rendered first; then one request marks everything from this peer read.
      if (shown.some((m) => m.recipient_id === session.agent_id && !m.read_at))
        await api.markConversationRead(peerId).then(() => refreshAll());
    })().catch((e) => alive && setError(errorText(e)));
    return () => {
      alive = false;
    };
  }, [peerId, live]);

  const loadOlder = async () => {
    if (!cursor || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const page = await api.conversation(peerId, { limit: PAGE, cursor });
      const shown = await open(page.messages);
      const el = list.current;
      if (el) anchor.current = { kind: 'keep', height: el.scrollHeight, scroll: el.scrollTop };
      setMessages((prev) => merge(prev, shown));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoadingOlder(false);
    }
  };

  useLayoutEffect(() => {
    const el = list.current;
    const a = anchor.current;
    if (!el || !a || messages.length === 0) return;
    el.scrollTop = a.kind === 'bottom' ? el.scrollHeight : a.scroll + (el.scrollHeight - a.height);
    anchor.current = null;
  }, [messages]);

  // Infinite scroll upward: reaching the top loads the previous page.
  useEffect(() => {
    if (!top.current || !list.current || !cursor) return;
    const observer = new IntersectionObserver((seen) => seen.some((s) => s.isIntersecting) && void loadOlder(), {
      root: list.current,
      rootMargin: '200px 0px 0px 0px',
    });
    observer.observe(top.current);
    return () => observer.disconnect();
  }, [cursor, messages.length > 0]);

  const peer = entry.peer;
  const intentTitle = (m: Message) => {
    const caps = m.recipient_id === session.agent_id ? myCaps.data?.capabilities : theirCaps.data?.capabilities;
    return caps?.find((c) => c.id === m.intent)?.title ?? m.intent;
  };
  return (
    <div class="thread">
      <div class="thread-head">
        <a class="back" href="#/inbox">
          ← All
        </a>
        <h2>
          <PeerName display={peer?.display_name} handle={entry.name} />
        </h2>
      </div>
      <ErrorNote error={error} />
      <ol class="messages" ref={list} aria-label={`Messages with ${entry.name}`} tabIndex={0}>
        <li ref={top} class="older">
          {cursor ? (
            <button type="button" class="btn plain small" onClick={loadOlder} disabled={loadingOlder}>
              {loadingOlder ? 'Loading…' : 'Load older messages'}
            </button>
          ) : cursor === null && messages.length > 0 ? (
            <span class="muted">Start of the conversation</span>
          ) : null}
        </li>
        {messages.map((m) => (
          <MessageView
            key={m.id}
            m={m}
            mine={m.sender_id === session.agent_id}
            mailbox={mailbox}
            intentTitle={intentTitle(m)}
            peerLabel={peer?.display_name}
          />
        ))}
      </ol>
      {peer?.state === 'mutual' ? (
        <Compose
          session={session}
          peer={peer}
          capabilities={theirCaps.data?.capabilities ?? []}
          replyTo={messages.at(-1)?.id}
          mySigningKey={mySigningKey}
        />
      ) : (
        <p class="muted">You can message {entry.name} again once you both authorize each other.</p>
      )}
    </div>
  );
}

/** New copies replace old ones (receipts change); oldest first. */
function merge(prev: Message[], incoming: Message[]): Message[] {
  const byId = new Map(prev.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

const RECEIPT: Record<Message['status'], string> = {
  queued: 'Sent',
  relayed: 'Relayed',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Failed',
};
const RECEIPT_HINT: Record<Message['status'], string> = {
  queued: 'Accepted by the server; not yet fetched by the recipient',
  relayed: 'Accepted by the recipient’s server (another server)',
  failed: 'Could not be relayed to the recipient’s server',
  delivered: 'The recipient’s agent has fetched it',
  read: 'The recipient has read it',
};

/** Message content is untrusted: rendered as text only, never as HTML, direction-isolated. */
function MessageView({
  m,
  mine,
  mailbox,
  intentTitle,
  peerLabel,
}: {
  m: Message;
  mine: boolean;
  mailbox: SecureMailbox | null;
  intentTitle: string | null;
  peerLabel?: string | null;
}) {
  const failure = mailbox?.failureOf(m);
  const unopened = !failure && isUnopened(m);
  const status = mailbox?.signatureOf(m) ?? 'not checked';
  return (
    <li class={`message ${mine ? 'mine' : 'theirs'} ${status === 'failed' ? 'alarm' : ''}`} data-testid="message">
      <div class="meta">
        <span class="from">{mine ? 'You' : <bdi>{peerLabel ?? m.sender_name}</bdi>}</span>
        {!unopened && !failure && <SignatureBadge status={status} />}
        {m.sealed && (
          <span class="badge sealed" title="End-to-end encrypted: the server cannot read it">
            <Lock /> sealed
          </span>
        )}
        <time class="muted" dateTime={m.created_at}>
          {when(m.created_at)}
        </time>
        {mine && (
          <span class={`receipt ${m.status}`} data-testid="receipt" title={RECEIPT_HINT[m.status]}>
            {RECEIPT[m.status]}
          </span>
        )}
      </div>
      {failure ? (
        <p class="alarm-text" role="alert">
          ⚠ This message failed verification and is hidden. {failure}
        </p>
      ) : unopened ? (
        <p class="unopened">
          <Lock /> This message was sealed to keys this browser does not have. Restore your key backup (Settings) to read it.
        </p>
      ) : (
        <>
          {status === 'failed' && (
            <p class="alarm-text">⚠ The signature does not match {m.sender_name}’s known key. Do not trust this content.</p>
          )}
          {m.intent && <p class="intent">Request: {intentTitle}</p>}
          {m.subject && (
            <p class="subject" dir="auto">
              {m.subject}
            </p>
          )}
          {m.body && (
            <p class="body" dir="auto">
              {m.body}
            </p>
          )}
          {m.payload !== null && m.payload !== undefined && <Payload value={m.payload} />}
          {mailbox?.intentProblemOf(m) && <p class="warning">{mailbox.intentProblemOf(m)}</p>}
        </>
      )}
      <AttentionLine m={m} mine={mine} mailbox={mailbox} />
    </li>
  );
}

const Lock = () => (
  <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
    <path d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2M3.5 7h9v7h-9z" fill="none" stroke="currentColor" stroke-width="1.6" />
  </svg>
);

function SignatureBadge({ status }: { status: string }) {
  const text: Record<string, [string, string]> = {
    verified: ['✓ verified', 'Signed with the key you pinned for this sender'],
    unsigned: ['unsigned', 'The sender publishes no signing key; only the server vouches for who sent it'],
    failed: ['⚠ signature failed', 'The signature does not verify: do not trust this message'],
    'not checked': ['not checked', 'Add your delivery secret in Settings to check messages'],
  };
  const [label, hint] = text[status] ?? [status, ''];
  return (
    <span class={`badge sig-${status.replace(' ', '-')}`} title={hint}>
      {label}
    </span>
  );
}

/** A typed payload as name: value pairs, not raw JSON. */
function Payload({ value }: { value: unknown }) {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return <pre class="payload">{JSON.stringify(value, null, 2)}</pre>;
  return (
    <dl class="payload">
      {Object.entries(value).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd dir="auto">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

function Compose({
  session,
  peer,
  capabilities,
  replyTo,
  mySigningKey,
}: {
  session: Session;
  peer: Peer;
  capabilities: Capability[];
  replyTo?: string;
  mySigningKey: string | null;
}) {
  const [scope, setScope] = useState(peer.their_scopes[0] ?? 'message');
  const [intent, setIntent] = useState('');
  const [draft, setDraft] = useState(() => loadDraft(session.agent_id, peer.agent_id));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const schema = capabilities.find((c) => c.id === intent)?.input_schema as JsonSchema | undefined;
  const cannotSign = Boolean(mySigningKey) && session.signing?.publicKey !== mySigningKey;
  const edit = (patch: Partial<typeof draft>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    saveDraft(session.agent_id, peer.agent_id, next);
  };

  const send = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    setError(null);
    setBusy(true);
    try {
      const payload = intent ? readPayload(schema, new FormData(form)) : undefined;
      const mailbox = mailboxFor(session);
      const input = {
        recipient_id: peer.agent_id,
        body: draft.body || undefined,
        subject: draft.subject || undefined,
        scope,
        intent: intent || undefined,
        payload,
        reply_to_id: replyTo,
        client_id: crypto.randomUUID(),
        origin: 'human' as const, // a person typed it here (SPEC §17.3)
      };
      const sent = await (mailbox ? mailbox.send(input) : clientFor(session).send(input));
      if (sent.status === 'held_for_approval')
        setError('The leak guard held this message: it looks like it carries a secret. Approve or discard it in Settings.');
      edit({ subject: '', body: '' });
      setIntent('');
      refreshAll();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  if (cannotSign) {
    return (
      <p class="warning" role="status">
        This browser does not hold your signing key, so it cannot send as you. Restore your key backup, or publish new keys, in Settings.
      </p>
    );
  }
  return (
    <form class="compose card" onSubmit={send} aria-label="Compose">
      <div class="inline">
        <label>
          Scope
          <select value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value)}>
            {(peer.their_scopes.length ? peer.their_scopes : ['message']).map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        {capabilities.length > 0 && (
          <label>
            Request
            <select value={intent} onChange={(e) => setIntent((e.target as HTMLSelectElement).value)}>
              <option value="">(a message)</option>
              {capabilities.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title}
                </option>
              ))}
            </select>
          </label>
        )}
        <label class="grow">
          Subject <input name="subject" value={draft.subject} onInput={(e) => edit({ subject: (e.target as HTMLInputElement).value })} />
        </label>
      </div>
      {intent && <PayloadForm schema={schema} />}
      <label>
        Message
        <textarea
          id="compose-body"
          name="body"
          rows={3}
          placeholder={`Write to ${peer.name}…`}
          value={draft.body}
          onInput={(e) => edit({ body: (e.target as HTMLTextAreaElement).value })}
        />
      </label>
      <ErrorNote error={error} />
      <button class="btn primary" type="submit" disabled={busy}>
        {busy ? 'Sending…' : 'Send'}
      </button>
    </form>
  );
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema & { enum?: unknown[]; description?: string }>;
  required?: string[];
  enum?: unknown[];
}

/** A form generated from the intent's JSON Schema for simple fields; anything else is edited as JSON. */
function PayloadForm({ schema }: { schema?: JsonSchema }) {
  const simple =
    schema?.type === 'object' &&
    schema.properties &&
    Object.values(schema.properties).every((p) => p.enum || ['string', 'number', 'integer', 'boolean'].includes(p.type ?? ''));
  if (!simple) {
    return (
      <label>
        Details (JSON) <textarea name="payload" rows={3} placeholder="{}" />
      </label>
    );
  }
  return (
    <fieldset class="payload-form">
      <legend>Details</legend>
      {Object.entries(schema.properties!).map(([name, p]) => {
        const required = schema.required?.includes(name);
        const label = `${name}${required ? ' *' : ''}`;
        if (p.enum) {
          return (
            <label key={name}>
              {label}
              <select name={`p.${name}`} required={required}>
                {p.enum.map((v) => (
                  <option key={String(v)}>{String(v)}</option>
                ))}
              </select>
            </label>
          );
        }
        if (p.type === 'boolean') {
          return (
            <label key={name} class="check">
              <input type="checkbox" name={`p.${name}`} /> {name}
            </label>
          );
        }
        return (
          <label key={name}>
            {label}{' '}
            <input name={`p.${name}`} type={p.type === 'string' ? 'text' : 'number'} required={required} placeholder={p.description} />
          </label>
        );
      })}
    </fieldset>
  );
}

function readPayload(schema: JsonSchema | undefined, data: FormData): unknown {
  if (data.has('payload')) {
    const raw = field(data, 'payload');
    return raw.trim() ? (JSON.parse(raw) as unknown) : undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(schema?.properties ?? {})) {
    const v = field(data, `p.${name}`);
    if (p.type === 'boolean') out[name] = v === 'on';
    else if (v === '') continue;
    else out[name] = p.type === 'number' || p.type === 'integer' ? Number(v) : v;
  }
  return out;
}

/** The panel lists at most this many peers that need the human. */
const PANEL_PEERS = 5;

const FLAG_TEXT: Record<string, string> = {
  loop_detected: 'stopped by the loop breaker',
  deadline_missed: 'deadline missed',
  deadline_today: 'reply due today',
  signature_failed: 'signature failed',
  keys_changed: 'keys changed',
  contact_request: 'contact request',
};

/**
 * The triage digest's groups that need the human (issue 18), most urgent first, as the server ranks
 * them; sealed mail is opened here for its snippet (SecureMailbox.digest).
 */
function Attention({ session, live }: { session: Session; live: number }) {
  const mailbox = mailboxFor(session);
  // Only the panel's own snippets are opened here (one request each): the flagged peers' latest thread.
  const digest = useAsync<DigestOutput>(
    () => (mailbox ? mailbox.digest({ only: (p) => p.flags.length > 0, max: PANEL_PEERS }) : clientFor(session).digest()),
    [live],
  );
  const flagged = (digest.data?.peers ?? []).filter((p) => p.flags.length > 0).slice(0, PANEL_PEERS);
  if (flagged.length === 0 && !digest.data?.held_count) return null;
  return (
    <section class="attention" aria-label="Needs your attention" data-testid="attention">
      {digest.data?.held_count ? <p class="muted">{digest.data.held_count} message(s) held by your quiet hours.</p> : null}
      <ul>
        {flagged.map((p) => {
          const latest = p.threads.find((t) => t.latest)?.latest;
          return (
            <li key={p.peer_id}>
              <a href={`#/inbox/${encodeURIComponent(p.peer_name)}`}>
                <bdi>{p.peer_name}</bdi>
              </a>{' '}
              {p.flags.map((f) => (
                <span key={f} class={`badge flag ${f}`}>
                  {FLAG_TEXT[f] ?? f}
                </span>
              ))}
              {p.nearest_reply_by && <span class="muted"> · reply by {when(p.nearest_reply_by)}</span>}
              {latest?.snippet && (
                <span class="muted preview">
                  {' '}
                  ·{' '}
                  <bdi>
                    {latest.subject ? `${latest.subject} — ` : ''}
                    {latest.snippet}
                  </bdi>
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

const DEADLINE_TEXT = {
  pending: 'Reply by',
  met: 'Replied in time — was due',
  missed: '⚠ Deadline missed — was due',
  declined: 'Deadline declined — was due',
} as const;

/** Reply-by deadline, quiet-hours hold and processed outcome of a message (issue 18). */
function AttentionLine({ m, mine, mailbox }: { m: Message; mine: boolean; mailbox: SecureMailbox | null }) {
  const receipt = useAsync(async () => (mine && m.processed && mailbox ? mailbox.receiptStatus(m) : null), [m.id, m.processed?.at]);
  const held = m.held_until && Date.parse(m.held_until) > Date.now();
  if (!m.reply_by && !m.held_until && !m.processed) return null;
  return (
    <p class="attention-line muted" data-testid="attention-line">
      {m.reply_by && (
        <span class={`deadline ${m.deadline?.state ?? 'pending'}`} data-testid="deadline">
          {DEADLINE_TEXT[m.deadline?.state ?? 'pending']} {when(m.reply_by)}
          {m.deadline?.note && (
            <>
              : <bdi>{m.deadline.note}</bdi>
            </>
          )}
        </span>
      )}
      {m.held_until && (
        <span class="held" data-testid="held">
          {held ? 'Held by quiet hours until' : 'Was held by quiet hours until'} {when(m.held_until)}
        </span>
      )}
      {m.processed && (
        <span class={`processed ${m.processed.outcome}`} data-testid="processed">
          Processed: {m.processed.outcome}
          {m.processed.note && (
            <>
              {' '}
              — <bdi>{m.processed.note}</bdi>
            </>
          )}
          {receipt.data && <span class={`badge sig ${receipt.data}`}> receipt {receipt.data}</span>}
        </span>
      )}
    </p>
  );
}
