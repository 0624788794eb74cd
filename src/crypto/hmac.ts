/**
 * Delivery MACs: every message the server hands out carries HMAC-SHA256, keyed with the recipient's
 * delivery secret, over the JCS form of the message without its `delivery_mac` field. Clients verify
 * before rendering.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { toBase64Url } from './encoding.js';
import { canonicalBytes } from './jcs.js';

export const hmacSha256 = (key: Uint8Array, data: Uint8Array) => hmac(sha256, key, data);

export function deliveryMac(secret: string, message: Record<string, unknown>): string {
  const { delivery_mac: _ignored, ...rest } = message;
  return toBase64Url(hmacSha256(utf8ToBytes(secret), canonicalBytes(rest)));
}

export function verifyDeliveryMac(secret: string, message: Record<string, unknown>): boolean {
  const mac = message.delivery_mac;
  if (typeof mac !== 'string') return false;
  try {
    return constantTimeEqual(mac, deliveryMac(secret, message));
  } catch {
    return false;
  }
}

export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
