/** Byte encodings used on the wire. Isomorphic: no Node built-ins. */
export { bytesToHex, hexToBytes, concatBytes, utf8ToBytes as utf8 } from '@noble/hashes/utils.js';

export const fromUtf8 = (bytes: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error('invalid base64');
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export const toBase64Url = (bytes: Uint8Array) => toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** True when `text` is exactly what toBase64Url gives for some bytes (fromBase64Url accepts it). */
export function isCanonicalBase64Url(text: string): boolean {
  try {
    fromBase64Url(text);
    return true;
  } catch {
    return false;
  }
}

/** Strict: only the base64url alphabet, no padding, and a length that base64 can produce. */
export function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error('invalid base64url');
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bytes = fromBase64(padded);
  if (toBase64Url(bytes) !== text) throw new Error('invalid base64url (non-canonical)');
  return bytes;
}
