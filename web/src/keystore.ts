/**
 * Private keys at rest. Where the browser supports it, they are non-extractable WebCrypto keys
 * (Ed25519, X25519) in IndexedDB: a script that manages to run on this page can use them while the
 * page is open, but cannot read them out. The raw bytes exist only until the encrypted backup is
 * written (it needs them), and only where the browser lacks these algorithms do they stay in the
 * session in localStorage.
 */
import type { EncryptionIdentity, SigningIdentity } from '../../src/client/secure.js';
import {
  importEncryptionKey,
  importSigningKey,
  supportsNonExtractableKeys,
  webCryptoSharedSecret,
  webCryptoSigner,
  type KeyPairText,
} from '../../src/crypto/webcrypto.js';

/** A key pair as the session holds it: the secret only while it is stored in localStorage. */
export interface SessionKey {
  publicKey: string;
  secretKey?: string;
}

interface KeyHolder {
  agent_id: string;
  signing?: SessionKey;
  encryption?: SessionKey;
}

interface StoredKeys {
  agent_id: string;
  signing_public_key: string;
  encryption_public_key: string;
  signing: CryptoKey;
  encryption: CryptoKey;
}

/** Where this session's private keys are: none here, raw in localStorage, or non-extractable in IndexedDB. */
export type KeyStorage = 'none' | 'local' | 'webcrypto';

export function keyStorage(s: KeyHolder): KeyStorage {
  if (!s.signing && !s.encryption) return 'none';
  return s.signing?.secretKey || s.encryption?.secretKey ? 'local' : 'webcrypto';
}

let support: Promise<boolean> | undefined;
/** Whether this browser can keep Ed25519 and X25519 private keys non-extractable (checked once). */
export const webCryptoKeysSupported = () => (support ??= supportsNonExtractableKeys());

/**
 * Moves the raw private keys into IndexedDB as non-extractable CryptoKeys and returns the session
 * without them; unchanged where the browser cannot, or the keys are already there.
 */
export async function protectKeys<S extends KeyHolder>(s: S): Promise<S> {
  const { signing, encryption } = s;
  if (!signing?.secretKey || !encryption?.secretKey || !(await webCryptoKeysSupported())) return s;
  try {
    const stored: StoredKeys = {
      agent_id: s.agent_id,
      signing_public_key: signing.publicKey,
      encryption_public_key: encryption.publicKey,
      signing: await importSigningKey(signing as KeyPairText),
      encryption: await importEncryptionKey(encryption as KeyPairText),
    };
    await write((store) => store.put(stored));
  } catch (error) {
    // No IndexedDB here (some private windows): the keys stay where they were, and Settings says so.
    console.warn('could not store the keys as non-extractable CryptoKeys', error);
    return s;
  }
  loaded.delete(s.agent_id);
  return { ...s, signing: { publicKey: signing.publicKey }, encryption: { publicKey: encryption.publicKey } };
}

/** The session's keys as the SDK's SecureMailbox takes them: raw, or operations on the stored CryptoKeys. */
export function identityKeys(s: KeyHolder): { signing?: SigningIdentity; encryption?: EncryptionIdentity } {
  const { signing, encryption } = s;
  return {
    ...(signing && {
      signing: signing.secretKey
        ? { publicKey: signing.publicKey, secretKey: signing.secretKey }
        : { publicKey: signing.publicKey, sign: async (bytes: Uint8Array) => webCryptoSigner((await storedKeys(s)).signing)(bytes) },
    }),
    ...(encryption && {
      encryption: encryption.secretKey
        ? { publicKey: encryption.publicKey, secretKey: encryption.secretKey }
        : {
            publicKey: encryption.publicKey,
            sharedSecret: async (peer: Uint8Array) => webCryptoSharedSecret((await storedKeys(s)).encryption)(peer),
          },
    }),
  };
}

/** Erases every stored key (sign-out). */
export async function forgetKeys(): Promise<void> {
  loaded.clear();
  await write((store) => store.clear());
}

const loaded = new Map<string, Promise<StoredKeys>>();

function storedKeys(s: KeyHolder): Promise<StoredKeys> {
  let keys = loaded.get(s.agent_id);
  if (!keys) {
    keys = read(s.agent_id).then((k) => {
      if (!k || k.signing_public_key !== s.signing?.publicKey || k.encryption_public_key !== s.encryption?.publicKey) {
        throw new Error(
          'This browser’s stored private keys are missing or belong to other keys (was site data cleared?). Restore your key backup: sign out, then sign in with it.',
        );
      }
      return k;
    });
    keys.catch(() => loaded.delete(s.agent_id));
    loaded.set(s.agent_id, keys);
  }
  return keys;
}

// ── IndexedDB ────────────────────────────────────────────────────────────────────────────────────
const DB_NAME = 'amtp.keys';
const STORE = 'keys';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'agent_id' });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error ?? new Error('IndexedDB could not be opened'));
  });
}

async function read(agentId: string): Promise<StoredKeys | undefined> {
  const db = await openDb();
  try {
    return await new Promise<StoredKeys | undefined>((resolve, reject) => {
      const get = db.transaction(STORE, 'readonly').objectStore(STORE).get(agentId);
      get.onsuccess = () => resolve(get.result as StoredKeys | undefined);
      get.onerror = () => reject(get.error ?? new Error('IndexedDB read failed'));
    });
  } finally {
    db.close();
  }
}

/** Resolves once the transaction is committed, so the raw keys are dropped only after the CryptoKeys are stored. */
async function write(change: (store: IDBObjectStore) => void): Promise<void> {
  const db = await openDb();
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(STORE, 'readwrite');
      change(tx.objectStore(STORE));
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write was aborted'));
    });
  } finally {
    db.close();
  }
}
