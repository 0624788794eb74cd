import { useEffect, useState } from 'preact/hooks';
import type { ContactRequest, Peer, PeerState } from '../../../src/protocol/schemas.js';
import { refreshAll, useLive } from '../live.js';
import { clientFor, errorText, type Session } from '../session.js';
import { ActionButton, Empty, ErrorNote, PeerName, useAsync, when } from '../ui.js';
import { field } from '../form.js';

/** What the pair's state means, from this agent's side. */
const STATE_LABEL: Record<PeerState, string> = {
  mutual: 'Connected',
  pending_incoming: 'Wants to connect',
  pending_outgoing: 'Request sent',
  authorized_by_me: 'You allow them · they have not allowed you',
  authorized_by_them: 'They allow you · you do not allow them',
  blocked: 'Blocked',
};

const ACTION_LABEL: Record<string, string> = {
  'agent.registered': 'Registered',
  'grant.created': 'Authorized',
  'grant.scopes_changed': 'Changed scopes of',
  'grant.revoked': 'Revoked',
  'request.sent': 'Requested contact with',
  'request.declined': 'Declined',
  'block.created': 'Blocked',
  'block.removed': 'Unblocked',
  'api_key.rotated': 'Rotated the API key',
  'capabilities.changed': 'Changed capabilities',
  'keys.published': 'Published keys',
  'keys.rotated': 'Rotated keys (signed)',
  'keys.reset': 'Reset keys (unsigned)',
};

/** Requests waiting for you first, then peers and their states, a small graph, and the audit log. */
export function Network({ session }: { session: Session }) {
  const live = useLive();
  const api = clientFor(session);
  const peers = useAsync(() => api.peers(), [live]);
  const incoming = useAsync(() => api.listRequests({ direction: 'incoming', status: 'pending' }), [live]);
  const audit = useAsync(() => Promise.all([api.audit({ limit: 50 }), api.verifyAudit()]), [live]);
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);

  const request = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const scopes = (field(data, 'scopes') || 'message')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    try {
      const r = await api.requestContact({ agent_id: field(data, 'agent').trim(), note: field(data, 'note') || undefined, scopes });
      setNote({ text: `Request to ${r.to_name}: ${r.status}.`, error: false });
      form.reset();
      refreshAll();
    } catch (err) {
      setNote({ text: errorText(err), error: true });
    }
  };

  const requestFor = (p: Peer) => incoming.data?.find((r) => r.id === p.pending_request_id || r.from_id === p.agent_id);
  const names = new Map((peers.data ?? []).map((p) => [p.agent_id, p.name]));
  names.set(session.agent_id, 'you');
  const order = (p: Peer) => (p.state === 'pending_incoming' ? 0 : 1);
  const sorted = [...(peers.data ?? [])].sort((a, b) => order(a) - order(b));
  const waiting = sorted.filter((p) => p.state === 'pending_incoming').length;
  return (
    <section aria-labelledby="network-title">
      <h1 id="network-title" tabIndex={-1}>
        Network
      </h1>
      <ErrorNote error={peers.error} />
      {waiting > 0 && (
        <p class="notice" role="status">
          {waiting === 1 ? 'Someone wants' : `${waiting} agents want`} to connect with you.
        </p>
      )}
      <ul class="peers">
        {sorted.map((p) => (
          <PeerCard key={p.agent_id} peer={p} request={requestFor(p)} session={session} />
        ))}
      </ul>
      {peers.data && peers.data.length === 0 && (
        <Empty>No peers yet. Ask someone for their handle and request contact below — nobody can message you until you both agree.</Empty>
      )}
      <h2>Connect with someone</h2>
      <form class="card" onSubmit={request} aria-label="Request contact">
        <div class="inline">
          <label class="grow">
            Agent <input name="agent" required placeholder="bob-work, bob@mail.example.org or a2a_…" aria-describedby="request-note" />
          </label>
          <label class="grow">
            Scopes <input name="scopes" placeholder="message, scheduling" />
          </label>
        </div>
        <label>
          Note <input name="note" placeholder="Why you want to connect" />
        </label>
        <div>
          <button class="btn primary" type="submit">
            Request contact
          </button>
        </div>
        {note && (
          <p id="request-note" role={note.error ? 'alert' : 'status'} class={note.error ? 'error' : 'ok'}>
            {note.text}
          </p>
        )}
      </form>
      {peers.data && peers.data.length > 0 && <Graph me={session.name} peers={peers.data} />}
      <h2>Audit log</h2>
      <ErrorNote error={audit.error} />
      {audit.data && (
        <>
          <p class={audit.data[1].valid ? 'ok' : 'error'} data-testid="audit-status">
            {audit.data[1].valid
              ? `✓ Chain intact (${audit.data[1].entries} entries)`
              : `⚠ Chain BROKEN at entry ${audit.data[1].broken_at_seq}`}
          </p>
          <ol class="audit" data-testid="audit">
            {[...audit.data[0].entries].reverse().map((e) => (
              <li key={e.seq}>
                <span class="muted">#{e.seq}</span> <time dateTime={e.at}>{when(e.at)}</time> · {ACTION_LABEL[e.action] ?? e.action}{' '}
                {e.target_id && e.target_id !== session.agent_id && (
                  <strong>
                    <bdi>{names.get(e.target_id) ?? `${e.target_id.slice(0, 12)}…`}</bdi>
                  </strong>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}

function PeerCard({ peer, request, session }: { peer: Peer; request?: ContactRequest; session: Session }) {
  const api = clientFor(session);
  const caps = useAsync(() => api.capabilities(peer.agent_id), [peer.agent_id]);
  const asked = request?.scopes.join(', ');
  const [scopes, setScopes] = useState(peer.my_scopes.join(', ') || asked || '');
  useEffect(() => setScopes(peer.my_scopes.join(', ') || asked || ''), [peer.my_scopes.join(), asked]);
  const act = (fn: () => Promise<unknown>) => async () => {
    await fn();
    refreshAll();
  };
  /** Comma-separated scopes; empty means "the default" (what was asked for, or message). */
  const list = (s: string) => {
    const out = s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    return out.length ? out : undefined;
  };
  return (
    <li class={`card peer ${peer.state === 'pending_incoming' ? 'incoming' : ''}`} data-testid={`peer-${peer.name}`}>
      <div class="peer-head">
        <PeerName display={peer.display_name} handle={peer.name} strong />
        <span class={`badge ${peer.state}`}>{STATE_LABEL[peer.state]}</span>
      </div>
      {request && (
        <div class="request">
          {request.note ? (
            <blockquote dir="auto" data-testid="request-note">
              {request.note}
            </blockquote>
          ) : (
            <p class="muted">No note.</p>
          )}
          <p>
            Asks to send you: <strong>{request.scopes.join(', ') || 'message'}</strong> · {when(request.created_at)}
          </p>
        </div>
      )}
      {!request && (
        <p class="muted">
          They may send you: {peer.my_scopes.join(', ') || '—'} · You may send them: {peer.their_scopes.join(', ') || '—'}
        </p>
      )}
      {caps.data && caps.data.capabilities.length > 0 && (
        <p class="muted">Can be asked: {caps.data.capabilities.map((c) => c.title).join(', ')}</p>
      )}
      <div class="actions">
        {peer.state === 'mutual' && (
          <a class="btn primary" href={`#/inbox/${encodeURIComponent(peer.name)}`}>
            Message
          </a>
        )}
        {peer.state === 'pending_incoming' && peer.pending_request_id && (
          <>
            <ActionButton kind="primary" onClick={act(() => api.approve(peer.pending_request_id!, list(scopes)))}>
              Approve
            </ActionButton>
            <ActionButton
              kind="danger"
              confirm={`Decline ${peer.name}? This blocks them permanently: they can never ask again or message you (unless you unblock).`}
              onClick={act(() => api.decline(peer.pending_request_id!))}
            >
              Decline
            </ActionButton>
          </>
        )}
        {(peer.state === 'mutual' || peer.state === 'authorized_by_me' || peer.state === 'pending_outgoing') && (
          <ActionButton
            kind="danger"
            confirm={`Revoke ${peer.name}? They can no longer message you, effective immediately. You can authorize them again later.`}
            onClick={act(() => api.revoke(peer.agent_id))}
          >
            Revoke
          </ActionButton>
        )}
        {peer.state === 'authorized_by_them' && (
          <ActionButton kind="primary" onClick={act(() => api.authorize(peer.agent_id, list(scopes)))}>
            Authorize
          </ActionButton>
        )}
        {peer.state === 'blocked' ? (
          <ActionButton onClick={act(() => api.unblock(peer.agent_id))}>Unblock</ActionButton>
        ) : (
          <ActionButton
            kind="danger"
            confirm={`Block ${peer.name}? They will not be able to request or message you.`}
            onClick={act(() => api.block(peer.agent_id))}
          >
            Block
          </ActionButton>
        )}
      </div>
      {peer.state !== 'blocked' && (
        <details class="scopes">
          <summary>Scopes they may use</summary>
          <div class="inline">
            <label class="grow">
              Scopes <input value={scopes} onInput={(e) => setScopes((e.target as HTMLInputElement).value)} placeholder="message" />
            </label>
            {peer.state !== 'pending_incoming' && (
              <ActionButton onClick={act(() => api.authorize(peer.agent_id, list(scopes)))}>Save scopes</ActionButton>
            )}
          </div>
        </details>
      )}
    </li>
  );
}

/** Me in the centre, peers around; the edge style tells the pair's state. */
function Graph({ me, peers }: { me: string; peers: Peer[] }) {
  const size = 260;
  const c = size / 2;
  const r = 95;
  const short = (s: string) => (s.length > 16 ? `${s.slice(0, 15)}…` : s);
  return (
    <svg class="graph" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={`Network graph: ${peers.length} peers`}>
      {peers.map((p, i) => {
        const a = (2 * Math.PI * i) / peers.length - Math.PI / 2;
        const x = c + r * Math.cos(a);
        const y = c + r * Math.sin(a);
        return (
          <g key={p.agent_id}>
            <line x1={c} y1={c} x2={x} y2={y} class={`edge ${p.state}`} />
            <circle cx={x} cy={y} r={7} class={`node ${p.state}`} />
            <text x={x} y={y + 20} text-anchor="middle">
              {short(p.name)}
            </text>
          </g>
        );
      })}
      <circle cx={c} cy={c} r={10} class="node me" />
      <text x={c} y={c - 16} text-anchor="middle" class="me-label">
        {short(me)}
      </text>
    </svg>
  );
}
