import { useState } from 'preact/hooks';
import { protectKeys } from '../keystore.js';
import { downloadBackup, encryptBackup, errorText, saveSession, type Session } from '../session.js';
import { ErrorNote } from '../ui.js';
import { field } from '../form.js';

const MIN_PASSPHRASE = 10;

/**
 * Encrypts the keys with a passphrase and downloads them; the session remembers that a backup exists.
 * Then, where the browser can, the keys move into non-extractable storage and their raw bytes are dropped.
 */
export function BackupForm({ session, onSaved }: { session: Session; onSaved: (s: Session) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const passphrase = field(data, 'passphrase');
    setError(null);
    if (passphrase.length < MIN_PASSPHRASE) return setError(`Use a passphrase of at least ${MIN_PASSPHRASE} characters.`);
    if (passphrase !== field(data, 'confirm')) return setError('The two passphrases differ.');
    setBusy(true);
    try {
      downloadBackup(await encryptBackup(session, passphrase));
      const next = await protectKeys({ ...session, backed_up_at: new Date().toISOString() });
      saveSession(next);
      onSaved(next);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={save} aria-label="Key backup">
      <div class="inline">
        <label class="grow">
          Backup passphrase <input name="passphrase" type="password" autocomplete="new-password" minLength={MIN_PASSPHRASE} required />
        </label>
        <label class="grow">
          Repeat passphrase <input name="confirm" type="password" autocomplete="new-password" required />
        </label>
      </div>
      <ErrorNote error={error} />
      <div>
        <button class="btn primary" type="submit" disabled={busy}>
          {busy ? 'Encrypting…' : 'Download encrypted backup'}
        </button>
      </div>
      <small>The file is encrypted with this passphrase (PBKDF2 + AES-256-GCM). Keep both: neither alone opens it.</small>
    </form>
  );
}
