/**
 * ed25519 sender signatures. The signed bytes are the JCS form of a fixed set of fields, every
 * absent one as null, so no field that changes a message's meaning can be altered or dropped.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { fromBase64Url, toBase64Url } from './encoding.js';
import { canonicalBytes } from './jcs.js';
import type { SealedEnvelope } from './seal.js';

export const SIGNATURE_VERSION = 'amtp-sig-1';
/** Binds full addresses (handle@domain) instead of server-local ids, so it holds across servers (SPEC §19.7). */
export const SIGNATURE_VERSION_2 = 'amtp-sig-2';

export interface SignedFields {
  sender_id: string;
  recipient_id: string;
  /** Both set: the amtp-sig-2 bytes, which bind these addresses instead of the ids. */
  sender_address?: string;
  recipient_address?: string;
  scope: string;
  intent?: string | null;
  subject?: string | null;
  body?: string | null;
  payload?: unknown;
  sealed?: SealedEnvelope | null;
  reply_to_id?: string | null;
  client_id?: string | null;
  sig_nonce: string;
  signed_at: string;
}

export interface Signature {
  ed25519_signature: string;
  sig_nonce: string;
  signed_at: string;
}

export function generateSigningKeyPair(): { publicKey: string; secretKey: string } {
  const { secretKey, publicKey } = ed25519.keygen();
  return { publicKey: toBase64Url(publicKey), secretKey: toBase64Url(secretKey) };
}

export const signingPublicKey = (secretKey: string) => toBase64Url(ed25519.getPublicKey(fromBase64Url(secretKey)));

export function messageSigningInput(f: SignedFields): Uint8Array {
  const parties =
    f.sender_address && f.recipient_address
      ? { v: SIGNATURE_VERSION_2, sender: f.sender_address, recipient: f.recipient_address }
      : { v: SIGNATURE_VERSION, sender_id: f.sender_id, recipient_id: f.recipient_id };
  return canonicalBytes({
    ...parties,
    scope: f.scope,
    intent: f.intent ?? null,
    subject: f.subject ?? null,
    body: f.body ?? null,
    payload: f.payload ?? null,
    sealed: f.sealed ?? null,
    reply_to_id: f.reply_to_id ?? null,
    client_id: f.client_id ?? null,
    sig_nonce: f.sig_nonce,
    signed_at: f.signed_at,
  });
}

/** Signs a message's bytes: with a secret key here, or with a key that cannot be read out (WebCrypto). */
export type Signer = (bytes: Uint8Array) => Promise<Uint8Array>;

export function signMessage(
  fields: Omit<SignedFields, 'sig_nonce' | 'signed_at'>,
  secretKey: string,
  opts: { now?: Date; nonce?: string } = {},
): Signature {
  const stamp = signatureStamp(opts);
  return { ed25519_signature: signBytes(messageSigningInput({ ...fields, ...stamp }), secretKey), ...stamp };
}

/** signMessage with a Signer: the same signed bytes, the same signature (Ed25519 is deterministic). */
export async function signMessageWith(
  fields: Omit<SignedFields, 'sig_nonce' | 'signed_at'>,
  sign: Signer,
  opts: { now?: Date; nonce?: string } = {},
): Promise<Signature> {
  const stamp = signatureStamp(opts);
  return { ed25519_signature: toBase64Url(await sign(messageSigningInput({ ...fields, ...stamp }))), ...stamp };
}

const signatureStamp = (opts: { now?: Date; nonce?: string }) => ({
  sig_nonce: opts.nonce ?? toBase64Url(randomBytes(16)),
  signed_at: (opts.now ?? new Date()).toISOString(),
});

/** Never throws: malformed keys, signatures or fields simply do not verify. */
export function verifyMessageSignature(fields: SignedFields, signature: string, publicKey: string): boolean {
  try {
    return verifyBytes(messageSigningInput(fields), signature, publicKey);
  } catch {
    return false;
  }
}

export const signBytes = (bytes: Uint8Array, secretKey: string) => toBase64Url(ed25519.sign(bytes, fromBase64Url(secretKey)));

export function verifyBytes(bytes: Uint8Array, signature: string, publicKey: string): boolean {
  try {
    return ed25519.verify(fromBase64Url(signature), bytes, fromBase64Url(publicKey));
  } catch {
    return false;
  }
}
