/**
 * The test vectors of SPEC Appendix A, computed by the project's own code from fixed inputs. `npm run
 * docs` writes them into docs/SPEC.md; test/docs.test.ts fails when the SPEC differs from what the
 * code computes, and src/crypto/spec-vectors.test.ts re-checks every vector as printed with independent
 * primitives (node:crypto), so neither the code nor the document can change alone.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { auditHash, AUDIT_GENESIS, SERVER_AUDIT_SUBJECT, type ChainFields } from '../../src/protocol/audit-chain.js';
import { toBase64Url } from '../../src/crypto/encoding.js';
import { deliveryMac } from '../../src/crypto/hmac.js';
import { canonicalJson } from '../../src/crypto/jcs.js';
import { rotationStatementInput, signRotation } from '../../src/crypto/rotation.js';
import { messageSigningInput, signMessage, signingPublicKey } from '../../src/crypto/sign.js';

const bytes = (value: number, length = 32) => new Uint8Array(length).fill(value);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const SENDER = `a2a_${'a'.repeat(32)}`;
const RECIPIENT = `a2a_${'b'.repeat(32)}`;
const OLD_SECRET = toBase64Url(bytes(0x11));
const NEW_SECRET = toBase64Url(bytes(0x22));
const ENCRYPTION_SECRET = bytes(0x33);

export interface Vector {
  vector: string;
  [field: string]: unknown;
}

function signatureVector(): Vector {
  const fields = {
    sender_id: SENDER,
    recipient_id: RECIPIENT,
    scope: 'scheduling',
    intent: 'meeting.propose',
    subject: 'Lunch?',
    body: 'Tuesday at noon, café Ünter den Linden?',
    payload: { duration_minutes: 60, when: '2026-01-06T12:00:00Z' },
    sealed: null,
    reply_to_id: null,
    client_id: 'c-1',
  };
  const sig = signMessage(fields, OLD_SECRET, {
    nonce: toBase64Url(Uint8Array.from({ length: 16 }, (_, i) => i)),
    now: new Date('2026-01-01T00:00:00.000Z'),
  });
  return {
    vector: 'A.1 message signature',
    secret_key_seed: OLD_SECRET,
    public_key: signingPublicKey(OLD_SECRET),
    fields: { ...fields, sig_nonce: sig.sig_nonce, signed_at: sig.signed_at },
    signing_input: text(messageSigningInput({ ...fields, sig_nonce: sig.sig_nonce, signed_at: sig.signed_at })),
    ed25519_signature: sig.ed25519_signature,
  };
}

function rotationVector(): Vector {
  const statement = {
    agent_id: SENDER,
    old_public_key: signingPublicKey(OLD_SECRET),
    new_public_key: signingPublicKey(NEW_SECRET),
    new_encryption_key: toBase64Url(x25519.getPublicKey(ENCRYPTION_SECRET)),
    rotated_at: '2026-02-01T00:00:00.000Z',
  };
  return {
    vector: 'A.2 key rotation statement',
    old_secret_key_seed: OLD_SECRET,
    new_secret_key_seed: NEW_SECRET,
    new_encryption_secret_key: toBase64Url(ENCRYPTION_SECRET),
    statement,
    signing_input: text(rotationStatementInput(statement)),
    rotation_signature: signRotation(statement, OLD_SECRET),
  };
}

function deliveryMacVector(): Vector {
  const secret = `ds_${toBase64Url(bytes(0x44))}`;
  const message = {
    id: `msg_${'0'.repeat(20)}${'1'.repeat(12)}`,
    thread_id: `thr_${'0'.repeat(20)}${'2'.repeat(12)}`,
    sender_id: SENDER,
    sender_name: 'alice',
    recipient_id: RECIPIENT,
    recipient_name: 'bob',
    subject: 'Lunch?',
    body: 'Tuesday at noon?',
    scope: 'message',
    intent: null,
    payload: null,
    reply_to_id: null,
    client_id: null,
    status: 'delivered',
    created_at: '2026-01-01T00:00:00.000Z',
    delivered_at: '2026-01-01T00:00:01.000Z',
    read_at: null,
    sealed: null,
    ed25519_signature: null,
    sig_nonce: null,
    signed_at: null,
    untrusted: true,
  };
  return {
    vector: 'A.3 delivery MAC',
    delivery_secret: secret,
    message,
    mac_input: canonicalJson(message),
    delivery_mac: deliveryMac(secret, message),
    wrong_mac_without_ds_prefix: deliveryMac(secret.slice(3), message),
  };
}

function auditVector(): Vector {
  const first = {
    agent_id: SENDER,
    seq: 1,
    at: '2026-01-01T00:00:00.000Z',
    action: 'agent.registered',
    target_id: SENDER,
    details: { name: 'alice' },
    prev_hash: AUDIT_GENESIS,
  };
  const firstHash = auditHash(first);
  const second = {
    agent_id: SENDER,
    seq: 2,
    at: '2026-01-01T00:05:00.000Z',
    action: 'grant.created',
    target_id: RECIPIENT,
    details: { scopes: ['message', 'scheduling'] },
    prev_hash: firstHash,
  };
  const server = {
    agent_id: SERVER_AUDIT_SUBJECT,
    seq: 1,
    at: '2026-01-02T00:00:00.000Z',
    action: 'admin.agent.suspended',
    target_id: RECIPIENT,
    details: { name: 'bob', operator: 'root' },
    prev_hash: AUDIT_GENESIS,
  };
  const input = (e: ChainFields) => canonicalJson({ v: 'amtp-audit-1', ...e });
  return {
    vector: 'A.4 audit chain',
    entries: [
      { ...first, hash_input: input(first), hash: firstHash },
      { ...second, hash_input: input(second), hash: auditHash(second) },
    ],
    server_log_entry: { ...server, hash_input: input(server), hash: auditHash(server) },
  };
}

export const testVectors = (): Vector[] => [signatureVector(), rotationVector(), deliveryMacVector(), auditVector()];

export function vectorsReference(): string {
  return testVectors()
    .map((v) => `#### ${v.vector}\n\n\`\`\`json\n${JSON.stringify(v, null, 2)}\n\`\`\`\n\n`)
    .join('');
}
