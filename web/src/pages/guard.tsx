import { useState } from 'preact/hooks';
import { clientFor, errorText, type Session } from '../session.js';
import { ActionButton, ErrorNote, useAsync, when } from '../ui.js';
import { field } from '../form.js';

/**
 * The human's guard rails (SPEC §17): messages the leak guard held (approve or discard: the MCP tools
 * cannot), threads the loop breaker stopped (resume), the leak guard and the default budget.
 */
export function GuardPanel({ session }: { session: Session }) {
  const api = clientFor(session);
  const settings = useAsync(() => api.guard(), []);
  const held = useAsync(() => api.held(), []);
  const peers = useAsync(() => api.peers(), []);
  const [error, setError] = useState<string | null>(null);
  const loops = (peers.data ?? []).flatMap((p) => (p.looping_threads ?? []).map((thread) => ({ thread, peer: p.name })));
  const act =
    (run: () => Promise<unknown>, ...reload: { reload: () => void }[]) =>
    async () => {
      setError(null);
      try {
        await run();
      } catch (err) {
        setError(errorText(err));
      }
      for (const r of reload) r.reload();
    };
  const saveBudget = async (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const limit = (name: string) => (field(data, name).trim() ? Number(field(data, name)) : null);
    await act(() => api.setGuard({ default_budget: { per_hour: limit('per_hour'), per_day: limit('per_day') } }), settings)();
  };

  return (
    <>
      <h2>Guard rails</h2>
      <ErrorNote error={error} />
      {held.data && held.data.length > 0 && (
        <ul class="held" aria-label="Held messages">
          {held.data.map((h) => (
            <li key={h.id} class="card">
              <p class="warning">
                Held for approval · to {h.recipient_name} · {when(h.created_at)} · found: {h.reasons.join('; ')}
              </p>
              <pre class="body">{h.body ?? (h.sealed_for_sender ? '(sealed: the content stays encrypted here)' : '')}</pre>
              <ActionButton
                kind="primary"
                confirm={`Send this message to ${h.recipient_name} as it is?`}
                onClick={act(() => api.approveHeld(h.id), held)}
              >
                Approve and send
              </ActionButton>{' '}
              <ActionButton kind="danger" onClick={act(() => api.discardHeld(h.id), held)}>
                Discard
              </ActionButton>
            </li>
          ))}
        </ul>
      )}
      {loops.map(({ thread, peer }) => (
        <p key={thread} class="card warning">
          The loop breaker stopped a thread with {peer} ({thread}).{' '}
          <ActionButton onClick={act(() => api.clearLoop(thread), peers)}>Resume</ActionButton>
        </p>
      ))}
      {settings.data && (
        <>
          <p>
            Leak guard: {settings.data.leak_guard ? 'on — messages that look like they carry secrets wait for you here' : 'off'}{' '}
            <ActionButton onClick={act(() => api.setGuard({ leak_guard: !settings.data!.leak_guard }), settings)}>
              {settings.data.leak_guard ? 'Turn off' : 'Turn on'}
            </ActionButton>
          </p>
          <form class="card inline" onSubmit={saveBudget} aria-label="Default budget">
            <label>
              Per hour <input name="per_hour" type="number" min="1" value={settings.data.default_budget.per_hour ?? ''} />
            </label>
            <label>
              Per day <input name="per_day" type="number" min="1" value={settings.data.default_budget.per_day ?? ''} />
            </label>
            <button class="btn" type="submit">
              Save default budget
            </button>
          </form>
        </>
      )}
    </>
  );
}
