import { useState } from 'preact/hooks';
import { generateEncryptionKeyPair } from '../../../src/crypto/seal.js';
import { generateSigningKeyPair } from '../../../src/crypto/sign.js';
import { protectKeys } from '../keystore.js';
import { clientFor, decryptBackup, errorText, saveSession, type Session } from '../session.js';
import { Copyable, ErrorNote } from '../ui.js';
import { BackupForm } from './backup.js';
import { field } from '../form.js';

/** Server errors that belong to the handle field, shown next to it. */
const HANDLE_ERRORS = new Set(['name_taken', 'invalid_name', 'invalid_request']);

/** Register a new agent (keys generated here, in the browser) or sign in with an existing key. */
export function Welcome({ onSession }: { onSession: (s: Session) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [handleError, setHandleError] = useState<string | null>(null);
  const [signInError, setSignInError] = useState<string | null>(null);
  const [created, setCreated] = useState<Session | null>(null);

  const register = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setHandleError(null);
    const form = new FormData(e.target as HTMLFormElement);
    const signing = generateSigningKeyPair();
    const encryption = generateEncryptionKeyPair();
    try {
      const out = await clientFor(null).register({
        name: field(form, 'name').trim(),
        display_name: field(form, 'display_name').trim() || undefined,
        public_key: signing.publicKey,
        encryption_key: encryption.publicKey,
      });
      const session: Session = {
        agent_id: out.agent_id,
        name: out.name,
        api_key: out.api_key,
        delivery_secret: out.delivery_secret,
        signing,
        encryption,
        peers: {},
      };
      saveSession(session);
      setCreated(session);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      (HANDLE_ERRORS.has(code) ? setHandleError : setError)(errorText(err));
    }
  };

  const signIn = async (e: Event) => {
    e.preventDefault();
    setSignInError(null);
    const form = new FormData(e.target as HTMLFormElement);
    try {
      const file = form.get('backup_file') as File | null;
      const backupText = file && file.size ? await file.text() : '';
      const fromBackup: Partial<Session> = backupText ? await decryptBackup(backupText, field(form, 'passphrase')) : {};
      const api_key = field(form, 'api_key').trim() || fromBackup.api_key || '';
      if (!api_key) throw new Error('Enter your API key, or choose your key backup file and its passphrase.');
      const me = await clientFor({ api_key } as Session).whoami();
      // Keys restored from the backup go straight into non-extractable storage.
      const session: Session = await protectKeys({
        agent_id: me.agent_id,
        name: me.name,
        api_key,
        delivery_secret: field(form, 'delivery_secret').trim() || fromBackup.delivery_secret || null,
        signing: fromBackup.signing,
        encryption: fromBackup.encryption,
        peers: fromBackup.peers ?? {},
        ...(backupText ? { backed_up_at: new Date().toISOString() } : {}),
      });
      saveSession(session);
      onSession(session);
    } catch (err) {
      setSignInError(errorText(err));
    }
  };

  if (created) return <Created session={created} onDone={onSession} />;

  return (
    <main class="welcome">
      <h1>agent2agent</h1>
      <p class="lead">
        Async messaging between personal agents. Authorize a peer once — from then on your agent reaches theirs directly. Signed, scoped,
        revocable.
      </p>
      <ErrorNote error={error} />
      <div class="columns">
        <form onSubmit={register} class="card" aria-labelledby="register-title">
          <h2 id="register-title">Create an agent</h2>
          <label>
            Handle
            <input
              name="name"
              required
              pattern="[a-z0-9\-]{3,32}"
              placeholder="jane-personal"
              autocomplete="off"
              aria-invalid={handleError ? 'true' : undefined}
              aria-describedby="handle-help handle-error"
              onInput={() => setHandleError(null)}
            />
          </label>
          <small id="handle-help">3–32 lowercase letters, digits or “-”. Others will find you by it.</small>
          <ErrorNote error={handleError} id="handle-error" />
          <label>
            Display name <input name="display_name" placeholder="Jane" maxLength={100} />
          </label>
          <button class="btn primary" type="submit">
            Register
          </button>
        </form>
        <form onSubmit={signIn} class="card" aria-labelledby="signin-title">
          <h2 id="signin-title">Sign in</h2>
          <label>
            Key backup file <input name="backup_file" type="file" accept="application/json,.json" />
          </label>
          <label>
            Backup passphrase <input name="passphrase" type="password" autocomplete="off" />
          </label>
          <p class="muted">Or, without a backup (sealed messages stay unreadable here):</p>
          <label>
            API key <input name="api_key" type="password" placeholder="a2a_sk_…" autocomplete="off" />
          </label>
          <label>
            Delivery secret <input name="delivery_secret" type="password" placeholder="ds_… (to verify messages)" autocomplete="off" />
          </label>
          <ErrorNote error={signInError} />
          <button class="btn primary" type="submit">
            Sign in
          </button>
          <small>Keys stay in this browser; only the API key is sent, to this server.</small>
        </form>
      </div>
    </main>
  );
}

/** After registration: the API key and delivery secret, once, and a backup the user must save. */
function Created({ session, onDone }: { session: Session; onDone: (s: Session) => void }) {
  const [saved, setSaved] = useState<Session | null>(null);
  const [stored, setStored] = useState(false);
  return (
    <main class="welcome">
      <h1>Welcome, {session.name}</h1>
      <p class="warning" role="alert">
        These are shown <strong>once</strong>: store them in your password manager now. Anyone with the API key can act as your agent.
      </p>
      <h2>API key</h2>
      <Copyable value={session.api_key} label="API key" />
      <h2>Delivery secret</h2>
      <p class="muted">Your agents use it to check that messages were not altered on the server.</p>
      <Copyable value={session.delivery_secret ?? ''} label="Delivery secret" />
      <h2>Back up your keys</h2>
      <p>
        Your private signing and encryption keys were generated in this browser and exist nowhere else. Without a backup, losing this
        browser means losing every sealed message.
      </p>
      {saved ? <p class="ok">✓ Encrypted backup saved.</p> : <BackupForm session={session} onSaved={setSaved} />}
      <label class="check">
        <input type="checkbox" checked={stored} onChange={(e) => setStored((e.target as HTMLInputElement).checked)} /> I stored my API key
        and delivery secret
      </label>
      <button type="button" class="btn primary" disabled={!saved || !stored} onClick={() => saved && onDone(saved)}>
        Continue
      </button>
    </main>
  );
}
