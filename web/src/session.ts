/**
 * The signed-in identity lives only in this browser (localStorage): the API key, the delivery secret,
 * the private signing and encryption keys, and pinned peer keys. It is sent nowhere except the API key,
 * as a Bearer header, to this same server. Signing out erases it.
 */
import { AmtpClient } from '../../src/client/client.js';
import { SecureMailbox, type PinnedKeys } from '../../src/client/secure.js';

export interface Session {
  agent_id: string;
  name: string;
  api_key: string;
  delivery_secret: string | null;
  signing?: { publicKey: string; secretKey: string };
  encryption?: { publicKey: string; secretKey: string };
  peers: Record<string, PinnedKeys>;
}

const KEY = 'amtp.session';

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  localStorage.setItem(KEY, JSON.stringify(s));
}

export function signOut(): void {
  localStorage.removeItem(KEY);
}

export function clientFor(s: Session | null): AmtpClient {
  return new AmtpClient({ baseUrl: location.origin, apiKey: s?.api_key });
}

/** The SDK's SecureMailbox, with pins stored in the session: verifies, opens, signs and seals here. */
export function mailboxFor(s: Session): SecureMailbox | null {
  if (!s.delivery_secret) return null;
  const pins = {
    get: (id: string) => s.peers[id],
    set: (id: string, keys: PinnedKeys) => {
      s.peers[id] = keys;
      saveSession(s);
    },
  };
  return new SecureMailbox(clientFor(s), { ...s, delivery_secret: s.delivery_secret }, pins, { onWarning: (w) => console.warn(w) });
}

export function errorText(error: unknown): string {
  const e = error as { message?: string; code?: string };
  return e?.message ?? String(error);
}
