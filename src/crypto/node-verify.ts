/**
 * Server-side ed25519 verification through OpenSSL (node:crypto): about 13× the rate of the
 * pure-JavaScript verifier on the same core (docs/PERFORMANCE.md), with RFC 8032's strict rules
 * (every Wycheproof case agrees, see vectors.test.ts). Node only: clients and the browser keep the
 * isomorphic `@noble` code in sign.ts.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { fromBase64Url } from './encoding.js';
import { messageSigningInput, type SignedFields } from './sign.js';

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const MAX_CACHED_KEYS = 10_000;
const keys = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array, cacheKey: string): KeyObject {
  let key = keys.get(cacheKey);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(cacheKey, key);
  }
  return key;
}

function verifyWithKey(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array, cacheKey: string): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey, cacheKey), signature);
  } catch {
    return false;
  }
}

/** Raw bytes in, never throws: malformed keys or signatures simply do not verify. */
export const verifyEd25519 = (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean =>
  verifyWithKey(message, signature, publicKey, Buffer.from(publicKey).toString('base64url'));

/** The same contract as sign.ts's verifyMessageSignature (base64url signature and key). */
export function verifyMessageSignatureNode(fields: SignedFields, signature: string, publicKey: string): boolean {
  try {
    // The key's own base64url text is the cache key: nothing re-encoded on the send path.
    return verifyWithKey(messageSigningInput(fields), fromBase64Url(signature), fromBase64Url(publicKey), publicKey);
  } catch {
    return false;
  }
}
