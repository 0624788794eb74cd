import { useState } from 'preact/hooks';
import { signRotation, signRotationWith, type RotationFields } from '../../../src/crypto/rotation.js';
import { generateEncryptionKeyPair } from '../../../src/crypto/seal.js';
import { generateSigningKeyPair } from '../../../src/crypto/sign.js';
import { identityKeys, keyStorage, webCryptoKeysSupported, type KeyStorage } from '../keystore.js';
import { clientFor, errorText, saveSession, type Session } from '../session.js';
import { ActionButton, Copyable, ErrorNote, useAsync, when } from '../ui.js';
import { BackupForm } from './backup.js';
import { field } from '../form.js';
import { GuardPanel } from './guard.js';

/** Keys and their backup, the delivery secret, the API key, the webhook and its delivery log. */
export function Settings({ session, onChange, onSignOut }: { session: Session; onChange: (s: Session) => void; onSignOut: () => void }) {
  const api = clientFor(session);
  const me = useAsync(() => api.whoami(), [session.signing?.publicKey]);
  const webhook = useAsync(() => api.webhook().catch(() => null), []);
  const deliveries = useAsync(
    () =>
      api.request<{
        deliveries: { id: string; status: string; attempts: number; last_status: number | null; last_error: string | null }[];
      }>('GET', '/api/me/webhook/deliveries'),
    [],
  );
  const [secret, setSecret] = useState<string | null>(null);
  const [shown, setShown] = useState<{ label: string; value: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const update = (patch: Partial<Session>) => {
    const next = { ...session, ...patch };
    saveSession(next);
    onChange(next);
    return next;
  };

  const setHook = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const out = await api.setWebhook({ url: field(new FormData(e.target as HTMLFormElement), 'url') });
      setSecret(out.secret);
      webhook.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const setDeliverySecret = (e: Event) => {
    e.preventDefault();
    update({ delivery_secret: field(new FormData(e.target as HTMLFormElement), 'ds').trim() || null });
  };

  /**
   * New key pairs; the rotation statement is signed with the old signing key when this browser has it
   * (as a CryptoKey or raw). The new keys stay raw until their backup is saved, then move out of reach.
   */
  const publishKeys = async () => {
    const signing = generateSigningKeyPair();
    const encryption = generateEncryptionKeyPair();
    // The key the server holds now, read now if the page has not loaded it yet: a quick click must not skip the signature.
    const current = (me.data ?? (await api.whoami())).public_key ?? null;
    const rotated_at = new Date().toISOString();
    const oldKey = current && session.signing?.publicKey === current ? identityKeys(session).signing : undefined;
    const statement: RotationFields = {
      agent_id: session.agent_id,
      old_public_key: current ?? '',
      new_public_key: signing.publicKey,
      new_encryption_key: encryption.publicKey,
      rotated_at,
    };
    const rotation = oldKey
      ? {
          rotated_at,
          rotation_signature: 'sign' in oldKey ? await signRotationWith(statement, oldKey.sign) : signRotation(statement, oldKey.secretKey),
        }
      : {};
    await api.request('PUT', '/api/me/keys', {
      body: { public_key: signing.publicKey, encryption_key: encryption.publicKey, ...rotation },
    });
    update({ signing, encryption, backed_up_at: undefined });
    me.reload();
  };
  const lostKey = Boolean(me.data?.public_key) && session.signing?.publicKey !== me.data?.public_key;

  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title" tabIndex={-1}>
        Settings
      </h1>
      {me.data?.notices.map((n) => (
        <p key={n} class="warning" role="alert">
          {n}
        </p>
      ))}

      <h2>Keys</h2>
      <dl class="facts">
        <div>
          <dt>Signing key</dt>
          <dd>
            <code class="key">{session.signing?.publicKey ?? 'not in this browser'}</code>
          </dd>
        </div>
        <div>
          <dt>Encryption key</dt>
          <dd>
            <code class="key">{session.encryption?.publicKey ?? 'not in this browser'}</code>
          </dd>
        </div>
        <div>
          <dt>Stored</dt>
          <dd data-testid="key-storage">
            <KeyStorageNote storage={keyStorage(session)} />
          </dd>
        </div>
        <div>
          <dt>Backup</dt>
          <dd data-testid="backup-state">
            {session.backed_up_at
              ? `Encrypted backup saved ${when(session.backed_up_at)}`
              : session.signing || session.encryption
                ? '⚠ No backup: these keys exist only in this browser'
                : '—'}
          </dd>
        </div>
      </dl>
      {lostKey && (
        <p class="warning">
          This browser does not hold the signing key your agent publishes: restore your backup (sign out, then sign in with it), or publish
          new keys below.
        </p>
      )}
      {keyStorage(session) === 'local' && <BackupForm session={session} onSaved={(s) => onChange(s)} />}
      <p>
        <ActionButton
          kind="danger"
          confirm={
            lostKey
              ? 'Publish new keys WITHOUT a signed rotation? Your peers will see an unverified key change and must re-check you out of band. Messages sealed to the old key stay unreadable.'
              : 'Publish new keys? The change is signed with your current key, so peers follow it. Messages sealed to the old key stay readable only with a backup of the old key.'
          }
          onClick={publishKeys}
        >
          Publish new keys
        </ActionButton>
      </p>

      <h2>Delivery secret</h2>
      <p class="muted">
        Checks that messages were not altered on the server.{' '}
        {session.delivery_secret ? 'Set in this browser.' : 'Not set: messages cannot be checked.'}
      </p>
      <form class="card inline" onSubmit={setDeliverySecret} aria-label="Delivery secret">
        <label class="grow">
          Delivery secret{' '}
          <input name="ds" type="password" placeholder={session.delivery_secret ? '•••••• (set)' : 'ds_…'} autocomplete="off" />
        </label>
        <button class="btn plain" type="submit">
          Save
        </button>
      </form>
      <ActionButton
        kind="danger"
        confirm="Rotate the delivery secret? Every other client that checks your messages needs the new one."
        onClick={async () => {
          const { delivery_secret } = await api.request<{ delivery_secret: string }>('POST', '/api/me/delivery-secret/rotate');
          update({ delivery_secret });
          setShown({ label: 'New delivery secret', value: delivery_secret });
        }}
      >
        Rotate delivery secret
      </ActionButton>

      <h2>API key</h2>
      <p>Rotating issues a new key at once; the old one stops working immediately (and this browser switches to the new one).</p>
      <ActionButton
        kind="danger"
        confirm="Rotate your API key? Every other client using the old key stops working."
        onClick={async () => {
          const { api_key } = await api.rotateApiKey();
          update({ api_key });
          setShown({ label: 'New API key', value: api_key });
        }}
      >
        Rotate API key
      </ActionButton>
      {shown && (
        <div class="card">
          <p class="warning">{shown.label}, shown once — store it now:</p>
          <Copyable value={shown.value} label={shown.label} />
        </div>
      )}

      <h2>This browser</h2>
      <button type="button" class="btn danger" onClick={onSignOut}>
        Sign out
      </button>

      <GuardPanel session={session} />

      <h2>Webhook</h2>
      <form class="card inline" onSubmit={setHook} aria-label="Webhook">
        <label class="grow">
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
        <ul class="deliveries">
          {deliveries.data.deliveries.map((d) => (
            <li key={d.id} class="card">
              <code class="key">{d.id}</code> · {d.status} · {d.attempts} attempts · {d.last_status ?? d.last_error ?? ''}{' '}
              {d.status !== 'pending' && (
                <ActionButton
                  onClick={async () => (await api.request('POST', `/api/me/webhook/deliveries/${d.id}/redeliver`), deliveries.reload())}
                >
                  Redeliver
                </ActionButton>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Says where the private keys are, and what a script running on this page could do with them. */
function KeyStorageNote({ storage }: { storage: KeyStorage }) {
  const supported = useAsync(() => webCryptoKeysSupported(), []);
  if (storage === 'none') return <>No private keys in this browser.</>;
  if (storage === 'webcrypto') {
    return (
      <>
        In this browser’s IndexedDB as non-extractable WebCrypto keys: a script on this page could use them while it is open, but cannot
        read them out. They cannot be backed up again, so keep the backup you saved.
      </>
    );
  }
  if (supported.data)
    return (
      <>
        In this browser’s local storage, readable by scripts on this page, until you save the backup below; then they move into
        non-extractable WebCrypto storage.
      </>
    );
  if (supported.data === false)
    return (
      <>
        In this browser’s local storage, readable by scripts on this page: this browser cannot keep Ed25519 and X25519 keys non-extractable.
        Keep a backup.
      </>
    );
  return <>In this browser’s local storage.</>;
}
