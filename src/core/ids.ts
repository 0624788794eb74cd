import { createHash, randomBytes } from 'node:crypto';

export const newAgentId = () => `a2a_${randomBytes(16).toString('hex')}`;
export const newMessageId = () => `msg_${randomBytes(16).toString('hex')}`;
export const newThreadId = () => `thr_${randomBytes(16).toString('hex')}`;
export const newEventId = () => `evt_${randomBytes(16).toString('hex')}`;
export const newRequestId = () => `req_${randomBytes(16).toString('hex')}`;

/** API keys carry a fixed prefix so secret scanners can recognise a leaked one. */
export const API_KEY_PREFIX = 'a2a_sk_';
export const API_KEY_PATTERN = /^a2a_sk_[A-Za-z0-9_-]{43}$/;
export const newApiKey = () => `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
export const newDeliverySecret = () => `ds_${randomBytes(32).toString('base64url')}`;
export const INVITE_PREFIX = 'a2a_inv_';
export const newInviteToken = () => `${INVITE_PREFIX}${randomBytes(24).toString('base64url')}`;

/**
 * Keys and invites are 256/192-bit random secrets, so a single SHA-256 is enough at rest (no password
 * stretching needed); only the hash is stored and looked up.
 */
export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export const nowIso = () => new Date().toISOString();

/** Opaque pagination cursors wrap the store's sequence numbers. */
export const encodeCursor = (seq: number) => Buffer.from(`s:${seq}`).toString('base64url');
export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const m = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? Number(m[1]) : Number.NaN;
}
