import { useEffect, useState } from 'preact/hooks';
import type { Peer, PeerState } from '../../../src/protocol/schemas.js';
import { clientFor, type Session } from '../session.js';
import { ActionButton, Empty, ErrorNote, useAsync } from '../ui.js';

const STATE_LABEL: Record<PeerState, string> = {
  mutual: 'Mutual',
  pending_incoming: 'Wants to connect',
  pending_outgoing: 'Request sent',
  authorized_by_me: 'Authorized by me',
  authorized_by_them: 'Authorized me',
  blocked: 'Blocked',
};

/** Peers and their states, consent actions, a small graph, and the audit log with its chain check. */
export function Network({ session }: { session: Session }) {
  const api = clientFor(session);
  const peers = useAsync(() => api.peers(), []);
  const audit = useAsync(() => Promise.all([api.audit({ limit: 50 }), api.verifyAudit()]), []);
  const refresh = () => {
    peers.reload();
    audit.reload();
  };
  const [note, setNote] = useState<string | null>(null);

  const request = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const scopes = String(data.get('scopes') || 'message').split(',').map((s) => s.trim()).filter(Boolean);
    try {
      const r = await api.requestContact({ agent_id: String(data.get('agent')).trim(), note: String(data.get('note') || '') || undefined, scopes });
      setNote(`Request to ${r.to_name}: ${r.status}.`);
      form.reset();
      refresh();
    } catch (err) {
      setNote((err as Error).message);
    }
  };

  return (
    <section aria-labelledby="network-title">
      <h1 id="network-title">Network</h1>
      <form class="card inline" onSubmit={request} aria-label="Request contact">
        <label>
          Agent <input name="agent" required placeholder="bob-work or a2a_…" />
        </label>
        <label>
          Scopes <input name="scopes" placeholder="message, scheduling" />
        </label>
        <label>
          Note <input name="note" placeholder="Why you want to connect" />
        </label>
        <button class="btn primary" type="submit">
          Request contact
        </button>
      </form>
      {note && <p role="status">{note}</p>}
      <ErrorNote error={peers.error} />
      {peers.data && peers.data.length === 0 && <Empty>No peers yet. Ask someone for their handle and request contact above — nobody can message you until you both agree.</Empty>}
      {peers.data && peers.data.length > 0 && <Graph me={session.name} peers={peers.data} />}
      <ul class="peers">
        {peers.data?.map((p) => <PeerCard key={p.agent_id} peer={p} session={session} onChange={refresh} />)}
      </ul>
      <h2>Audit log</h2>
      <ErrorNote error={audit.error} />
      {audit.data && (
        <>
          <p class={audit.data[1].valid ? 'ok' : 'error'} data-testid="audit-status">
            {audit.data[1].valid ? `Chain intact (${audit.data[1].entries} entries)` : `Chain BROKEN at entry ${audit.data[1].broken_at_seq}`}
          </p>
          <table class="audit">
            <thead>
              <tr>
                <th>#</th>
                <th>When</th>
                <th>What</th>
                <th>Whom</th>
              </tr>
            </thead>
            <tbody>
              {audit.data[0].entries.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>{new Date(e.at).toLocaleString()}</td>
                  <td>{e.action}</td>
                  <td>{e.target_id ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function PeerCard({ peer, session, onChange }: { peer: Peer; session: Session; onChange: () => void }) {
  const api = clientFor(session);
  const caps = useAsync(() => api.capabilities(peer.agent_id), [peer.agent_id]);
  const [scopes, setScopes] = useState(peer.my_scopes.join(', '));
  useEffect(() => setScopes(peer.my_scopes.join(', ')), [peer.my_scopes.join()]);
  const act = (fn: () => Promise<unknown>) => async () => {
    await fn();
    onChange();
  };
  /** Comma-separated scopes; empty means "the default" (what was asked for, or message). */
  const list = (s: string) => {
    const scopes = s.split(',').map((x) => x.trim()).filter(Boolean);
    return scopes.length ? scopes : undefined;
  };
  return (
    <li class="card peer" data-testid={`peer-${peer.name}`}>
      <div class="peer-head">
        <strong>{peer.display_name ?? peer.name}</strong> <span class="muted">{peer.name}</span>
        <span class={`badge ${peer.state}`}>{STATE_LABEL[peer.state]}</span>
      </div>
      <p class="muted">
        They may send me: {peer.my_scopes.join(', ') || '—'} · I may send them: {peer.their_scopes.join(', ') || '—'}
      </p>
      {caps.data && caps.data.capabilities.length > 0 && <p class="muted">Can be asked: {caps.data.capabilities.map((c) => c.title).join(', ')}</p>}
      <div class="actions">
        {peer.state === 'pending_incoming' && peer.pending_request_id && (
          <>
            <ActionButton kind="primary" onClick={act(() => api.approve(peer.pending_request_id!, list(scopes)))}>
              Approve
            </ActionButton>
            <ActionButton kind="danger" confirm={`Decline ${peer.name}? This blocks them permanently: they can never ask again or message you (unless you unblock).`} onClick={act(() => api.decline(peer.pending_request_id!))}>
              Decline
            </ActionButton>
          </>
        )}
        {(peer.state === 'mutual' || peer.state === 'authorized_by_me' || peer.state === 'pending_outgoing') && (
          <ActionButton kind="danger" onClick={act(() => api.revoke(peer.agent_id))}>
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
          <ActionButton kind="danger" confirm={`Block ${peer.name}? They will not be able to request or message you.`} onClick={act(() => api.block(peer.agent_id))}>
            Block
          </ActionButton>
        )}
      </div>
      {peer.state !== 'blocked' && peer.state !== 'pending_incoming' && (
        <div class="inline">
          <label>
            Scopes they may use <input value={scopes} onInput={(e) => setScopes((e.target as HTMLInputElement).value)} />
          </label>
          <ActionButton onClick={act(() => api.authorize(peer.agent_id, list(scopes)))}>Save scopes</ActionButton>
        </div>
      )}
    </li>
  );
}

/** Me in the centre, peers around; the edge style tells the pair's state. */
function Graph({ me, peers }: { me: string; peers: Peer[] }) {
  const size = 260;
  const c = size / 2;
  const r = 95;
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
              {p.name}
            </text>
          </g>
        );
      })}
      <circle cx={c} cy={c} r={10} class="node me" />
      <text x={c} y={c - 16} text-anchor="middle" class="me-label">
        {me}
      </text>
    </svg>
  );
}
