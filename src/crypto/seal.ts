/**
 * End-to-end sealing: ephemeral X25519 with the recipient's encryption key, HKDF-SHA256, and
 * XChaCha20-Poly1305 whose associated data binds sender, recipient, scope and client_id — so a
 * ciphertext cannot be re-addressed or re-labelled. The server only ever sees the envelope.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { fromBase64Url, fromUtf8, toBase64Url } from './encoding.js';
import { canonicalBytes } from './jcs.js';

export const SEAL_ALG = 'x25519-xchacha20poly1305';
export const SEAL_VERSION = 'amtp-seal-1';
/** Binds full addresses (handle@domain) instead of server-local ids, for mail between servers (SPEC §19.7). */
export const SEAL_VERSION_2 = 'amtp-seal-2';
export const HKDF_INFO = 'amtp/seal/v1';

export interface SealedEnvelope {
  alg: typeof SEAL_ALG;
  epk: string;
  nonce: string;
  ciphertext: string;
}

export interface SealedContent {
  subject?: string | null;
  body?: string | null;
  payload?: unknown;
}

export interface SealBinding {
  sender_id: string;
  recipient_id: string;
  /** Both set: the amtp-seal-2 associated data, which binds these addresses instead of the ids. */
  sender_address?: string;
  recipient_address?: string;
  scope: string;
  client_id: string | null;
}

export function generateEncryptionKeyPair(): { publicKey: string; secretKey: string } {
  const { secretKey, publicKey } = x25519.keygen();
  return { publicKey: toBase64Url(publicKey), secretKey: toBase64Url(secretKey) };
}

export const encryptionPublicKey = (secretKey: string) => toBase64Url(x25519.getPublicKey(fromBase64Url(secretKey)));

export const sealAssociatedData = (b: SealBinding) =>
  b.sender_address && b.recipient_address
    ? canonicalBytes({
        v: SEAL_VERSION_2,
        sender: b.sender_address,
        recipient: b.recipient_address,
        scope: b.scope,
        client_id: b.client_id,
      })
    : canonicalBytes({ v: SEAL_VERSION, sender_id: b.sender_id, recipient_id: b.recipient_id, scope: b.scope, client_id: b.client_id });

/** key = HKDF-SHA256(ikm = X25519(sk, pk), salt = epk ‖ recipient_pk, info = "amtp/seal/v1", 32 bytes) */
export function sealKey(shared: Uint8Array, epk: Uint8Array, recipientPk: Uint8Array): Uint8Array {
  if (shared.every((b) => b === 0)) throw new Error('seal: low-order public key');
  return hkdf(sha256, shared, concatBytes(epk, recipientPk), utf8ToBytes(HKDF_INFO), 32);
}

/**
 * The largest plaintext (canonical JSON of subject, body and payload) whose sealed form fits a
 * server's max_message_bytes: the server measures JSON.stringify([null, null, null, ciphertext])
 * (SPEC §5), and the ciphertext is base64url of the plaintext plus the 16-byte Poly1305 tag.
 */
export function maxSealedPlaintextBytes(maxMessageBytes: number): number {
  const framing = JSON.stringify([null, null, null, '']).length;
  return Math.floor(((maxMessageBytes - framing) * 3) / 4) - 16;
}

export function sealMessage(
  content: SealedContent,
  recipientEncryptionKey: string,
  binding: SealBinding,
  ephemeral?: { secretKey: Uint8Array; nonce: Uint8Array },
): SealedEnvelope {
  const recipientPk = fromBase64Url(recipientEncryptionKey);
  const esk = ephemeral?.secretKey ?? x25519.utils.randomSecretKey();
  const epk = x25519.getPublicKey(esk);
  const key = sealKey(x25519.getSharedSecret(esk, recipientPk), epk, recipientPk);
  const nonce = ephemeral?.nonce ?? randomBytes(24);
  const plaintext = canonicalBytes({ subject: content.subject ?? null, body: content.body ?? null, payload: content.payload ?? null });
  const ciphertext = xchacha20poly1305(key, nonce, sealAssociatedData(binding)).encrypt(plaintext);
  return { alg: SEAL_ALG, epk: toBase64Url(epk), nonce: toBase64Url(nonce), ciphertext: toBase64Url(ciphertext) };
}

export function openMessage(envelope: SealedEnvelope, recipientSecretKey: string, binding: SealBinding): OpenedContent {
  try {
    const sk = fromBase64Url(recipientSecretKey);
    const parts = envelopeParts(envelope);
    return openParts(parts, x25519.getSharedSecret(sk, parts.epk), x25519.getPublicKey(sk), binding);
  } catch (error) {
    throw cannotOpen(error);
  }
}

/**
 * openMessage for a private key that cannot be read out (a non-extractable WebCrypto key): the
 * caller computes X25519(sk, epk); everything after that is openMessage's own code path.
 */
export async function openMessageWith(
  envelope: SealedEnvelope,
  sharedSecret: (epk: Uint8Array) => Promise<Uint8Array>,
  recipientPublicKey: string,
  binding: SealBinding,
): Promise<OpenedContent> {
  try {
    const parts = envelopeParts(envelope);
    return openParts(parts, await sharedSecret(parts.epk), fromBase64Url(recipientPublicKey), binding);
  } catch (error) {
    throw cannotOpen(error);
  }
}

export interface OpenedContent {
  subject: string | null;
  body: string | null;
  payload: unknown;
}

function envelopeParts(envelope: SealedEnvelope): { epk: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array } {
  if (envelope.alg !== SEAL_ALG) throw new Error(`unknown alg ${String(envelope.alg)}`);
  const nonce = fromBase64Url(envelope.nonce);
  if (nonce.length !== 24) throw new Error('nonce must be 24 bytes');
  return { epk: fromBase64Url(envelope.epk), nonce, ciphertext: fromBase64Url(envelope.ciphertext) };
}

function openParts(
  parts: { epk: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array },
  shared: Uint8Array,
  recipientPk: Uint8Array,
  binding: SealBinding,
): OpenedContent {
  const key = sealKey(shared, parts.epk, recipientPk);
  const plaintext = xchacha20poly1305(key, parts.nonce, sealAssociatedData(binding)).decrypt(parts.ciphertext);
  const content = JSON.parse(fromUtf8(plaintext)) as OpenedContent;
  return { subject: content.subject ?? null, body: content.body ?? null, payload: content.payload ?? null };
}

const cannotOpen = (error: unknown) => new Error(`seal: cannot open this envelope with this key and binding (${(error as Error).message})`);
