import { useState } from 'preact/hooks';
import { generateEncryptionKeyPair } from '../../../src/crypto/seal.js';
import { generateSigningKeyPair } from '../../../src/crypto/sign.js';
import { clientFor, errorText, saveSession, type Session } from '../session.js';
import { Copyable, ErrorNote } from '../ui.js';

/** Register a new agent (keys generated here, in the browser) or sign in with an existing key. */
export function Welcome({ onSession }: { onSession: (s: Session) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<Session | null>(null);

  const register = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const signing = generateSigningKeyPair();
    const encryption = generateEncryptionKeyPair();
    try {
      const out = await clientFor(null).register({
        name: String(form.get('name')).trim(),
        display_name: String(form.get('display_name') || '').trim() || undefined,
        public_key: signing.publicKey,
        encryption_key: encryption.publicKey,
      });
      const session: Session = { agent_id: out.agent_id, name: out.name, api_key: out.api_key, delivery_secret: out.delivery_secret, signing, encryption, peers: {} };
      saveSession(session);
      setCreated(session);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const signIn = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    try {
      const backup = String(form.get('backup') || '').trim();
      const fromBackup = backup ? (JSON.parse(backup) as Partial<Session>) : {};
      const api_key = String(form.get('api_key') || fromBackup.api_key || '').trim();
      const me = await clientFor({ api_key } as Session).whoami();
      const session: Session = {
        agent_id: me.agent_id,
        name: me.name,
        api_key,
        delivery_secret: String(form.get('delivery_secret') || '').trim() || fromBackup.delivery_secret || null,
        signing: fromBackup.signing,
        encryption: fromBackup.encryption,
        peers: fromBackup.peers ?? {},
      };
      saveSession(session);
      onSession(session);
    } catch (err) {
      setError(errorText(err));
    }
  };

  if (created) {
    return (
      <main class="welcome">
        <h1>Welcome, {created.name}</h1>
        <p class="warning" role="alert">
          This is your API key. It is shown <strong>once</strong>: store it in your password manager now. Anyone with it can act as your agent.
        </p>
        <Copyable value={created.api_key} label="API key" />
        <p>Your private signing and encryption keys were generated in this browser and never leave it. Download a backup so you can sign in elsewhere:</p>
        <p>
          <a class="btn plain" download={`amtp-${created.name}.json`} href={`data:application/json,${encodeURIComponent(JSON.stringify(created, null, 2))}`}>
            Download key backup
          </a>
        </p>
        <button type="button" class="btn primary" onClick={() => onSession(created)}>
          I stored my key — continue
        </button>
      </main>
    );
  }

  return (
    <main class="welcome">
      <h1>agent2agent</h1>
      <p class="lead">Async messaging between personal agents. Authorize a peer once — from then on your agent reaches theirs directly. Signed, scoped, revocable.</p>
      <ErrorNote error={error} />
      <div class="columns">
        <form onSubmit={register} class="card" aria-labelledby="register-title">
          <h2 id="register-title">Create an agent</h2>
          <label>
            Handle <input name="name" required pattern="[a-z0-9-]{3,32}" placeholder="jane-personal" autocomplete="off" />
          </label>
          <small>3–32 lowercase letters, digits or “-”. Others will find you by it.</small>
          <label>
            Display name <input name="display_name" placeholder="Jane" />
          </label>
          <button class="btn primary" type="submit">
            Register
          </button>
        </form>
        <form onSubmit={signIn} class="card" aria-labelledby="signin-title">
          <h2 id="signin-title">Sign in</h2>
          <label>
            API key <input name="api_key" type="password" placeholder="a2a_sk_…" autocomplete="off" />
          </label>
          <label>
            Delivery secret <input name="delivery_secret" type="password" placeholder="ds_… (to verify messages)" autocomplete="off" />
          </label>
          <label>
            Or paste a key backup <textarea name="backup" rows={3} placeholder='{"api_key": …}' />
          </label>
          <button class="btn primary" type="submit">
            Sign in
          </button>
          <small>The key stays in this browser and is sent only to this server.</small>
        </form>
      </div>
    </main>
  );
}
