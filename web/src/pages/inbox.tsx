import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Capability, Message, Peer } from '../../../src/protocol/schemas.js';
import { clientFor, mailboxFor, type Session } from '../session.js';
import { ErrorNote, Empty, useAsync } from '../ui.js';

/** Conversations grouped by pair, the pair's messages (verified and opened here), compose and reply. */
export function Inbox({ session }: { session: Session }) {
  const api = clientFor(session);
  const [tick, setTick] = useState(0);
  const [peerId, setPeerId] = useState<string | null>(null);
  const conversations = useAsync(() => api.conversations(), [tick]);
  const peers = useAsync(() => api.peers(), [tick]);

  // Live updates: any event for this agent refreshes what is on screen.
  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      for (;;) {
        try {
          for await (const _event of api.stream({ signal: abort.signal })) setTick((t) => t + 1);
        } catch {
          if (abort.signal.aborted) return;
        }
        await new Promise((r) => setTimeout(r, 3000));
      }
    })();
    return () => abort.abort();
  }, [session.api_key]);

  const mutual = peers.data?.filter((p) => p.state === 'mutual') ?? [];
  const selected = peers.data?.find((p) => p.agent_id === peerId) ?? null;
  return (
    <section aria-labelledby="inbox-title" class="inbox">
      <h1 id="inbox-title">Inbox</h1>
      {!session.delivery_secret && <p class="warning">Add your delivery secret in Settings: without it messages cannot be verified, and sealed ones cannot be shown.</p>}
      <ErrorNote error={conversations.error} />
      <div class="split">
        <nav aria-label="Conversations" class="conversations">
          {conversations.data?.length === 0 && mutual.length === 0 && <Empty>No conversations yet. Connect with someone on the Network page first.</Empty>}
          <ul>
            {mutual
              .filter((p) => !conversations.data?.some((c) => c.peer_id === p.agent_id))
              .map((p) => (
                <li key={p.agent_id}>
                  <button type="button" class={`conv ${peerId === p.agent_id ? 'active' : ''}`} onClick={() => setPeerId(p.agent_id)}>
                    {p.name} <span class="muted">new conversation</span>
                  </button>
                </li>
              ))}
            {conversations.data?.map((c) => (
              <li key={c.peer_id}>
                <button type="button" class={`conv ${peerId === c.peer_id ? 'active' : ''}`} onClick={() => setPeerId(c.peer_id)} data-testid={`conv-${c.peer_name}`}>
                  <strong>{c.peer_name}</strong>
                  {c.unread_count > 0 && <span class="badge unread" aria-label={`${c.unread_count} unread`}>{c.unread_count}</span>}
                  <span class="muted preview">{c.last_message.subject ?? (c.last_message.sealed ? 'sealed message' : c.last_message.body ?? '')}</span>
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div class="pair">
          {selected ? <Pair key={selected.agent_id + tick} session={session} peer={selected} onSent={() => setTick((t) => t + 1)} /> : <Empty>Pick a conversation.</Empty>}
        </div>
      </div>
    </section>
  );
}

function Pair({ session, peer, onSent }: { session: Session; peer: Peer; onSent: () => void }) {
  const api = clientFor(session);
  // One mailbox for the view: it remembers how each message's signature checked out.
  const mailbox = useMemo(() => mailboxFor(session), [session]);
  const thread = useAsync(async () => {
    const [inbox, outbox] = await Promise.all([api.inbox({ limit: 200, order: 'desc' }), api.outbox({ limit: 200 })]);
    const raw = [...inbox.messages.filter((m) => m.sender_id === peer.agent_id), ...outbox.messages.filter((m) => m.recipient_id === peer.agent_id)].sort((a, b) =>
      a.created_at.localeCompare(b.created_at),
    );
    const shown = mailbox ? await mailbox.receiveAll(raw) : raw;
    for (const m of shown) if (m.recipient_id === session.agent_id && !m.read_at) await api.markRead(m.id);
    return shown;
  }, [peer.agent_id]);
  const caps = useAsync(() => api.capabilities(peer.agent_id), [peer.agent_id]);

  return (
    <div>
      <h2>
        {peer.display_name ?? peer.name} <span class="muted">{peer.name}</span>
      </h2>
      <ErrorNote error={thread.error} />
      <ol class="messages" aria-label={`Messages with ${peer.name}`}>
        {thread.data?.map((m) => <MessageView key={m.id} m={m} mine={m.sender_id === session.agent_id} status={mailbox?.signatureOf(m) ?? 'not checked'} />)}
      </ol>
      {peer.state === 'mutual' ? (
        <Compose session={session} peer={peer} capabilities={caps.data?.capabilities ?? []} replyTo={thread.data?.at(-1)?.id} onSent={onSent} />
      ) : (
        <p class="muted">You can message {peer.name} again once you both authorize each other.</p>
      )}
    </div>
  );
}

/** Message content is untrusted: rendered as text only, never as HTML. */
function MessageView({ m, mine, status }: { m: Message; mine: boolean; status: string }) {
  return (
    <li class={`message ${mine ? 'mine' : 'theirs'}`} data-testid="message">
      <div class="meta">
        <span>{mine ? 'You' : m.sender_name}</span>
        <span class={`badge sig-${status.replace(' ', '-')}`} title="Sender signature">
          {status === 'verified' ? '✓ verified' : status}
        </span>
        {m.sealed && <span class="badge sealed">sealed</span>}
        <span class="muted">{new Date(m.created_at).toLocaleString()}</span>
        {mine && <span class={`receipt ${m.status}`} data-testid="receipt">{m.status}</span>}
      </div>
      {!mine && <p class="untrusted-label">From another agent — untrusted content</p>}
      {m.subject && <p class="subject">{m.subject}</p>}
      {m.body && <p class="body">{m.body}</p>}
      {m.payload !== null && m.payload !== undefined && <pre class="payload">{JSON.stringify(m.payload, null, 2)}</pre>}
    </li>
  );
}

function Compose({ session, peer, capabilities, replyTo, onSent }: { session: Session; peer: Peer; capabilities: Capability[]; replyTo?: string; onSent: () => void }) {
  const [scope, setScope] = useState(peer.their_scopes[0] ?? 'message');
  const [intent, setIntent] = useState('');
  const [error, setError] = useState<string | null>(null);
  const schema = capabilities.find((c) => c.id === intent)?.input_schema as JsonSchema | undefined;

  const send = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    setError(null);
    try {
      const payload = intent ? readPayload(schema, data) : undefined;
      const mailbox = mailboxFor(session);
      const input = {
        recipient_id: peer.agent_id,
        body: String(data.get('body') || '') || undefined,
        subject: String(data.get('subject') || '') || undefined,
        scope,
        intent: intent || undefined,
        payload,
        reply_to_id: replyTo,
        client_id: crypto.randomUUID(),
      };
      await (mailbox ? mailbox.send(input) : clientFor(session).send(input));
      form.reset();
      onSent();
    } catch (err) {
      setError((err as Error).message);
    }
  };

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
        <label>
          Intent
          <select value={intent} onChange={(e) => setIntent((e.target as HTMLSelectElement).value)}>
            <option value="">(free-form)</option>
            {capabilities.map((c) => (
              <option key={c.id} value={c.id}>
                {c.title}
              </option>
            ))}
          </select>
        </label>
        <label>
          Subject <input name="subject" />
        </label>
      </div>
      {intent && <PayloadForm schema={schema} />}
      <label>
        Message <textarea name="body" rows={3} placeholder={`Write to ${peer.name}…`} />
      </label>
      <ErrorNote error={error} />
      <button class="btn primary" type="submit">
        Send
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
  const simple = schema?.type === 'object' && schema.properties && Object.values(schema.properties).every((p) => p.enum || ['string', 'number', 'integer', 'boolean'].includes(p.type ?? ''));
  if (!simple) {
    return (
      <label>
        Payload (JSON) <textarea name="payload" rows={3} placeholder="{}" />
      </label>
    );
  }
  return (
    <fieldset class="payload-form">
      <legend>Details</legend>
      {Object.entries(schema!.properties!).map(([name, p]) => {
        const required = schema!.required?.includes(name);
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
            <label key={name}>
              <input type="checkbox" name={`p.${name}`} /> {name}
            </label>
          );
        }
        return (
          <label key={name}>
            {label} <input name={`p.${name}`} type={p.type === 'string' ? 'text' : 'number'} required={required} placeholder={p.description} />
          </label>
        );
      })}
    </fieldset>
  );
}

function readPayload(schema: JsonSchema | undefined, data: FormData): unknown {
  const raw = data.get('payload');
  if (raw !== null) return String(raw).trim() ? JSON.parse(String(raw)) : undefined;
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(schema?.properties ?? {})) {
    const v = data.get(`p.${name}`);
    if (p.type === 'boolean') out[name] = v === 'on';
    else if (v === null || v === '') continue;
    else out[name] = p.type === 'number' || p.type === 'integer' ? Number(v) : String(v);
  }
  return out;
}
