/**
 * The signed-in identity lives only in this browser (localStorage): the API key, the delivery secret,
 * the public keys and pinned peer keys. The private keys are non-extractable CryptoKeys in IndexedDB
 * where the browser supports it (keystore.ts), otherwise in this session too. Nothing is sent anywhere
 * except the API key, as a Bearer header, to this same server. Signing out erases it all (every open
 * tab follows).
 */
import { AmtpClient } from '../../src/client/client.js';
import { SecureMailbox, type PinnedKeys } from '../../src/client/secure.js';
import type { Message } from '../../src/protocol/schemas.js';
import { forgetKeys, identityKeys, keyStorage, type SessionKey } from './keystore.js';

export interface Session {
  agent_id: string;
  name: string;
  api_key: string;
  delivery_secret: string | null;
  /** The secret keys are here only where keyStorage() says 'local'. */
  signing?: SessionKey;
  encryption?: SessionKey;
  peers: Record<string, PinnedKeys>;
  /** When the user last saved an encrypted backup of these keys (they exist nowhere else otherwise). */
  backed_up_at?: string;
}

export const SESSION_KEY = 'amtp.session';

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  localStorage.setItem(SESSION_KEY, JSON.stringify(s));
}

/** Erases the identity and every draft; other tabs see the storage event and sign out too. */
export function signOut(): void {
  for (const key of Object.keys(localStorage)) if (key.startsWith('amtp.')) localStorage.removeItem(key);
  mailboxes.clear();
  void forgetKeys().catch((error: unknown) => console.warn('could not erase the stored keys', error));
}

/** True when the private keys in this browser were never saved anywhere else. */
export const keysOnlyHere = (s: Session) => Boolean((s.signing || s.encryption) && !s.backed_up_at);

export function clientFor(s: Session | null): AmtpClient {
  return new AmtpClient({ baseUrl: location.origin, apiKey: s?.api_key });
}

const mailboxes = new Map<string, SecureMailbox>();

/**
 * The SDK's SecureMailbox, with pins stored in the session: verifies, opens, signs and seals here.
 * One per identity, so peer profiles are fetched once and not once per message or per view.
 */
export function mailboxFor(s: Session): SecureMailbox | null {
  if (!s.delivery_secret) return null;
  const id = [s.agent_id, s.api_key, s.delivery_secret, s.signing?.publicKey, s.encryption?.publicKey, keyStorage(s)].join('|');
  let mailbox = mailboxes.get(id);
  if (!mailbox) {
    const pins = {
      get: (agentId: string) => (loadSession() ?? s).peers[agentId],
      set: (agentId: string, keys: PinnedKeys) => {
        const current = loadSession() ?? s;
        current.peers[agentId] = keys;
        saveSession(current);
      },
    };
    mailbox = new SecureMailbox(clientFor(s), { agent_id: s.agent_id, delivery_secret: s.delivery_secret, ...identityKeys(s) }, pins, {
      onWarning: (w) => console.warn(w),
    });
    mailboxes.set(id, mailbox);
  }
  return mailbox;
}

const profilesAsked = new WeakMap<SecureMailbox, Map<string, Promise<unknown>>>();

/**
 * receiveAll, after fetching each sender's profile once: the messages of a page are received in
 * parallel, and would otherwise each ask for the same profile before the first answer is cached.
 */
export async function receiveMessages(mailbox: SecureMailbox, messages: Message[]): Promise<Message[]> {
  const asked = profilesAsked.get(mailbox) ?? new Map<string, Promise<unknown>>();
  profilesAsked.set(mailbox, asked);
  for (const id of new Set(messages.map((m) => m.sender_id)))
    if (!asked.has(id))
      asked.set(
        id,
        mailbox.peerProfile(id).catch(() => undefined),
      );
  await Promise.all(asked.values());
  return mailbox.receiveAll(messages);
}

export function errorText(error: unknown): string {
  const e = error as { message?: string; code?: string };
  return e?.message ?? String(error);
}

// ── drafts: per peer, in this browser, surviving live updates, navigation and reloads ─────────────
export interface Draft {
  subject: string;
  body: string;
}
const draftKey = (me: string, peer: string) => `amtp.draft.${me}.${peer}`;
export function loadDraft(me: string, peer: string): Draft {
  try {
    return { subject: '', body: '', ...(JSON.parse(localStorage.getItem(draftKey(me, peer)) ?? '{}') as Partial<Draft>) };
  } catch {
    return { subject: '', body: '' };
  }
}
export function saveDraft(me: string, peer: string, d: Draft): void {
  if (!d.subject && !d.body) localStorage.removeItem(draftKey(me, peer));
  else localStorage.setItem(draftKey(me, peer), JSON.stringify(d));
}

// ── key backup: encrypted with a passphrase (PBKDF2-SHA256 → AES-256-GCM, WebCrypto) ─────────────
const PBKDF2_ITERATIONS = 600_000;
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function backupKey(passphrase: string, salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: PBKDF2_ITERATIONS },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export interface EncryptedBackup {
  format: 'amtp-key-backup-1';
  agent: string;
  kdf: { name: 'PBKDF2-SHA256'; iterations: number; salt: string };
  cipher: { name: 'AES-256-GCM'; iv: string };
  ciphertext: string;
}

export async function encryptBackup(s: Session, passphrase: string): Promise<EncryptedBackup> {
  if (keyStorage(s) === 'webcrypto')
    throw new Error('These keys are stored so that they cannot be read out, so they cannot be backed up again: keep the backup you saved.');
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const { backed_up_at: _b, ...secrets } = s;
  const plain = new TextEncoder().encode(JSON.stringify(secrets));
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await backupKey(passphrase, salt), plain));
  return {
    format: 'amtp-key-backup-1',
    agent: s.name,
    kdf: { name: 'PBKDF2-SHA256', iterations: PBKDF2_ITERATIONS, salt: b64(salt) },
    cipher: { name: 'AES-256-GCM', iv: b64(iv) },
    ciphertext: b64(ciphertext),
  };
}

export async function decryptBackup(text: string, passphrase: string): Promise<Session> {
  const backup = JSON.parse(text) as EncryptedBackup;
  if (backup.format !== 'amtp-key-backup-1') throw new Error('This file is not an agent2agent key backup.');
  try {
    const key = await backupKey(passphrase, unb64(backup.kdf.salt));
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(backup.cipher.iv) }, key, unb64(backup.ciphertext));
    return JSON.parse(new TextDecoder().decode(plain)) as Session;
  } catch {
    throw new Error('Wrong passphrase, or the backup file is damaged.');
  }
}

/** Starts a download of the encrypted backup. */
export function downloadBackup(backup: EncryptedBackup): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(backup, null, 2)], { type: 'application/json' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: `amtp-${backup.agent}-keys.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
