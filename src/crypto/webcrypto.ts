/**
 * Private keys as non-extractable WebCrypto keys (Ed25519 and X25519): imported once from their raw
 * bytes, they can then sign and derive X25519 shared secrets, but no script can read them out again.
 * The web UI keeps them this way in IndexedDB; Node's WebCrypto runs the same code in the tests.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { generateEncryptionKeyPair } from './seal.js';
import { generateSigningKeyPair, type Signer } from './sign.js';

export interface KeyPairText {
  publicKey: string;
  secretKey: string;
}

/** Derives X25519(private key, peer public key), as @noble's getSharedSecret does with raw bytes. */
export type SharedSecret = (peerPublicKey: Uint8Array) => Promise<Uint8Array>;

/** Both key formats are base64url already, so the raw pair is a JWK as it stands (RFC 8037). */
const okpJwk = (crv: 'Ed25519' | 'X25519', pair: KeyPairText): JsonWebKey => ({ kty: 'OKP', crv, x: pair.publicKey, d: pair.secretKey });

export const importSigningKey = (pair: KeyPairText): Promise<CryptoKey> =>
  crypto.subtle.importKey('jwk', okpJwk('Ed25519', pair), { name: 'Ed25519' }, false, ['sign']);

export const importEncryptionKey = (pair: KeyPairText): Promise<CryptoKey> =>
  crypto.subtle.importKey('jwk', okpJwk('X25519', pair), { name: 'X25519' }, false, ['deriveBits']);

export const webCryptoSigner =
  (key: CryptoKey): Signer =>
  async (bytes) =>
    new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, bytes as Uint8Array<ArrayBuffer>));

export const webCryptoSharedSecret =
  (key: CryptoKey): SharedSecret =>
  async (peerPublicKey) => {
    const peer = await crypto.subtle.importKey('raw', peerPublicKey as Uint8Array<ArrayBuffer>, { name: 'X25519' }, true, []);
    return new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: peer }, key, 256));
  };

/** True when this WebCrypto can hold Ed25519 and X25519 private keys non-extractable and still sign and derive with them. */
export async function supportsNonExtractableKeys(): Promise<boolean> {
  try {
    const signing = await importSigningKey(generateSigningKeyPair());
    const encryption = await importEncryptionKey(generateEncryptionKeyPair());
    await webCryptoSigner(signing)(new Uint8Array(1));
    await webCryptoSharedSecret(encryption)(x25519.getPublicKey(x25519.utils.randomSecretKey()));
    return !signing.extractable && !encryption.extractable;
  } catch {
    return false;
  }
}
