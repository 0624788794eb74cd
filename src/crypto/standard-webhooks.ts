/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the base64-decoded part of a `whsec_` secret, sent as
 * `webhook-signature: v1,<base64>`. Isomorphic (no node: imports) so the SDK can ship the verifier.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { fromBase64, toBase64 } from './encoding.js';
import { constantTimeEqual } from './hmac.js';

const PREFIX = 'whsec_';

export function generateWebhookSecret(): string {
  return PREFIX + toBase64(randomBytes(24));
}

function secretKey(secret: string): Uint8Array {
  return fromBase64(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret);
}

export function signWebhook(secret: string, msgId: string, timestamp: number, body: string): string {
  return `v1,${toBase64(hmac(sha256, secretKey(secret), utf8ToBytes(`${msgId}.${timestamp}.${body}`)))}`;
}

export function webhookHeaders(secret: string, msgId: string, timestamp: number, body: string): Record<string, string> {
  return { 'webhook-id': msgId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(secret, msgId, timestamp, body) };
}

/** Verifies a delivery; throws with the reason when it does not check out. */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  opts: { toleranceSeconds?: number; now?: number } = {},
): true {
  const header = (name: string) => {
    const v = headers[name] ?? headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (!id || !timestamp || !signatures) throw new Error('webhook: missing webhook-id, webhook-timestamp or webhook-signature');
  const ts = Number(timestamp);
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(ts) || Math.abs(now - ts) > (opts.toleranceSeconds ?? 300))
    throw new Error('webhook: timestamp outside the tolerance');
  const expected = signWebhook(secret, id, ts, body);
  if (!signatures.split(' ').some((s) => constantTimeEqual(s, expected))) throw new Error('webhook: no matching signature');
  return true;
}
