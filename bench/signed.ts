/**
 * Pre-built signed (and sealed) sends, so the load generator spends no time on client-side crypto
 * while the server is measured. Signing uses OpenSSL through node:crypto (ed25519 is deterministic:
 * the same bytes as the client libraries); each pair's content is sealed once, each request gets
 * its own nonce and client_id.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { fromBase64Url, messageSigningInput, sealMessage, toBase64Url, type SealedEnvelope } from '../src/crypto/index.js';
import type { Seeded } from './lib.js';

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const privateKey = (secret: string): KeyObject =>
  createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, fromBase64Url(secret)]), format: 'der', type: 'pkcs8' });

export interface PreparedSend {
  authorization: string;
  body: string;
}

export function signedSends(seeded: Seeded, count: number, opts: { sealed: boolean }): PreparedSend[] {
  const n = seeded.ids.length;
  const keys = seeded.signing.map(privateKey);
  const envelopes: (SealedEnvelope | null)[] = seeded.ids.map((id, i) =>
    opts.sealed
      ? sealMessage({ subject: 'bench', body: 'x'.repeat(200) }, seeded.encryption[(i + 1) % n]!, {
          sender_id: id,
          recipient_id: seeded.ids[(i + 1) % n]!,
          scope: 'message',
          client_id: null,
        })
      : null,
  );
  const signed_at = new Date().toISOString();
  const out: PreparedSend[] = [];
  for (let k = 0; k < count; k++) {
    const i = k % n;
    const content = envelopes[i] ? { sealed: envelopes[i] } : { subject: 'bench', body: 'x'.repeat(200) };
    const fields = { sender_id: seeded.ids[i]!, recipient_id: seeded.ids[(i + 1) % n]!, scope: 'message', client_id: `b${k}`, ...content };
    const sig_nonce = toBase64Url(randomBytes(16));
    const signature = toBase64Url(sign(null, messageSigningInput({ ...fields, sig_nonce, signed_at }), keys[i]!));
    const { sender_id: _, ...wire } = fields;
    out.push({
      authorization: `Bearer ${seeded.keys[i]}`,
      body: JSON.stringify({ ...wire, ed25519_signature: signature, sig_nonce, signed_at }),
    });
  }
  return out;
}
