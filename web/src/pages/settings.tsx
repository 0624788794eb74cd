import { useState } from 'preact/hooks';
import { clientFor, saveSession, type Session } from '../session.js';
import { ActionButton, Copyable, ErrorNote, useAsync } from '../ui.js';

/** Webhook, delivery log, API key rotation, keys and their backup. */
export function Settings({ session, onChange }: { session: Session; onChange: (s: Session) => void }) {
  const api = clientFor(session);
  const me = useAsync(() => api.whoami(), []);
  const webhook = useAsync(() => api.webhook().catch(() => null), []);
  const deliveries = useAsync(() => api.request<{ deliveries: { id: string; status: string; attempts: number; last_status: number | null; last_error: string | null }[] }>('GET', '/api/me/webhook/deliveries'), []);
  const [secret, setSecret] = useState<string | null>(null);
  const [newKey, setNewKey] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const setHook = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const out = await api.setWebhook({ url: String(new FormData(e.target as HTMLFormElement).get('url')) });
      setSecret(out.secret);
      webhook.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const setDeliverySecret = (e: Event) => {
    e.preventDefault();
    const next = { ...session, delivery_secret: String(new FormData(e.target as HTMLFormElement).get('ds')).trim() || null };
    saveSession(next);
    onChange(next);
  };

  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      {me.data?.notices.map((n) => (
        <p key={n} class="warning" role="alert">
          {n}
        </p>
      ))}
      <h2>Webhook</h2>
      <form class="card inline" onSubmit={setHook} aria-label="Webhook">
        <label>
          URL <input name="url" type="url" required placeholder="https://my-agent.example/hooks/amtp" value={webhook.data?.url ?? ''} />
        </label>
        <button class="btn primary" type="submit">
          Save webhook
        </button>
      </form>
      <ErrorNote error={error} />
      {secret && (
        <div class="card">
          <p class="warning">Signing secret, shown once — configure your receiver with it (Standard Webhooks):</p>
          <Copyable value={secret} label="Webhook secret" />
        </div>
      )}
      {webhook.data && (
        <p>
          {webhook.data.enabled ? 'Enabled' : `Disabled: ${webhook.data.disabled_reason}`} · {webhook.data.pending_deliveries} pending{' '}
          <ActionButton onClick={() => api.request('POST', '/api/me/webhook/test')}>Send a test ping</ActionButton>{' '}
          <ActionButton kind="danger" onClick={async () => (await api.deleteWebhook(), webhook.reload())}>
            Remove
          </ActionButton>
        </p>
      )}
      {deliveries.data && deliveries.data.deliveries.length > 0 && (
        <table class="audit">
          <thead>
            <tr>
              <th>Delivery</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Last answer</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {deliveries.data.deliveries.map((d) => (
              <tr key={d.id}>
                <td>
                  <code>{d.id}</code>
                </td>
                <td>{d.status}</td>
                <td>{d.attempts}</td>
                <td>{d.last_status ?? d.last_error ?? ''}</td>
                <td>{d.status !== 'pending' && <ActionButton onClick={async () => (await api.request('POST', `/api/me/webhook/deliveries/${d.id}/redeliver`), deliveries.reload())}>Redeliver</ActionButton>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>API key</h2>
      <p>Rotating issues a new key at once; the old one stops working immediately (and this browser switches to the new one).</p>
      <ActionButton
        kind="danger"
        confirm="Rotate your API key? Every other client using the old key stops working."
        onClick={async () => {
          const { api_key } = await api.rotateApiKey();
          const next = { ...session, api_key };
          saveSession(next);
          setNewKey(api_key);
          onChange(next);
        }}
      >
        Rotate API key
      </ActionButton>
      {newKey && <Copyable value={newKey} label="New API key" />}
      <h2>Keys</h2>
      <p class="muted">Signing key: {session.signing?.publicKey ?? 'none'} · Encryption key: {session.encryption?.publicKey ?? 'none'}</p>
      <form class="card inline" onSubmit={setDeliverySecret} aria-label="Delivery secret">
        <label>
          Delivery secret <input name="ds" type="password" placeholder={session.delivery_secret ? '•••••• (set)' : 'ds_…'} />
        </label>
        <button class="btn plain" type="submit">
          Save
        </button>
      </form>
      <p>
        <a class="btn plain" download={`amtp-${session.name}.json`} href={`data:application/json,${encodeURIComponent(JSON.stringify(session, null, 2))}`}>
          Download key backup
        </a>
      </p>
    </section>
  );
}
