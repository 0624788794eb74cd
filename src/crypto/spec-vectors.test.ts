/**
 * SPEC Appendix A, as printed, re-verified with independent primitives (node:crypto / OpenSSL and the
 * reference JCS package) rather than the code that wrote it (scripts/docs/vectors.ts). test/docs.test.ts
 * separately checks that the printed vectors are what the implementation computes.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import canonicalizeModule from 'canonicalize';

const canonicalize = canonicalizeModule as unknown as (value: unknown) => string;
const spec = readFileSync(new URL('../../docs/SPEC.md', import.meta.url), 'utf8');
const block = /<!-- generated:vectors -->([\s\S]*?)<!-- \/generated:vectors -->/.exec(spec)?.[1] ?? '';
const vectors = new Map<string, any>(
  [...block.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]!)).map((v) => [v.vector.split(' ')[0], v]),
);

const PKCS8 = { ed25519: '302e020100300506032b657004220420', x25519: '302e020100300506032b656e04220420' };
const privateKey = (kind: keyof typeof PKCS8, seed: string) =>
  createPrivateKey({ key: Buffer.concat([Buffer.from(PKCS8[kind], 'hex'), Buffer.from(seed, 'base64url')]), format: 'der', type: 'pkcs8' });
const publicKeyOf = (kind: keyof typeof PKCS8, seed: string) => createPublicKey(privateKey(kind, seed)).export({ format: 'jwk' }).x;
const ed25519Sign = (seed: string, text: string) =>
  sign(null, Buffer.from(text, 'utf8'), privateKey('ed25519', seed)).toString('base64url');

test('the SPEC prints all four vectors of Appendix A', () => {
  assert.deepEqual([...vectors.keys()], ['A.1', 'A.2', 'A.3', 'A.4']);
});

test('A.1 message signature: key, signing input and signature', () => {
  const v = vectors.get('A.1');
  assert.equal(publicKeyOf('ed25519', v.secret_key_seed), v.public_key);
  assert.equal(canonicalize({ v: 'amtp-sig-1', ...v.fields }), v.signing_input);
  assert.equal(ed25519Sign(v.secret_key_seed, v.signing_input), v.ed25519_signature);
});

test('A.2 key rotation: statement input and signature by the old key', () => {
  const v = vectors.get('A.2');
  assert.equal(publicKeyOf('ed25519', v.old_secret_key_seed), v.statement.old_public_key);
  assert.equal(publicKeyOf('ed25519', v.new_secret_key_seed), v.statement.new_public_key);
  assert.equal(publicKeyOf('x25519', v.new_encryption_secret_key), v.statement.new_encryption_key);
  assert.equal(canonicalize({ v: 'amtp-key-rotation-1', ...v.statement }), v.signing_input);
  assert.equal(ed25519Sign(v.old_secret_key_seed, v.signing_input), v.rotation_signature);
});

test('A.3 delivery MAC: keyed with the whole secret, ds_ prefix included', () => {
  const v = vectors.get('A.3');
  const mac = (key: string) => createHmac('sha256', Buffer.from(key, 'utf8')).update(canonicalize(v.message)).digest('base64url');
  assert.equal(canonicalize(v.message), v.mac_input);
  assert.match(v.delivery_secret, /^ds_/);
  assert.equal(mac(v.delivery_secret), v.delivery_mac);
  assert.equal(mac(v.delivery_secret.slice(3)), v.wrong_mac_without_ds_prefix);
  assert.notEqual(v.delivery_mac, v.wrong_mac_without_ds_prefix);
});

test('A.4 audit chain: each hash covers its entry and the previous hash; the server log hashes as agent "server"', () => {
  const v = vectors.get('A.4');
  const check = (e: any) => {
    const { hash_input, hash, ...fields } = e;
    assert.equal(canonicalize({ v: 'amtp-audit-1', ...fields }), hash_input);
    assert.equal(createHash('sha256').update(hash_input, 'utf8').digest('hex'), hash);
  };
  v.entries.forEach(check);
  check(v.server_log_entry);
  assert.equal(v.entries[0].prev_hash, '0'.repeat(64));
  assert.equal(v.entries[1].prev_hash, v.entries[0].hash);
  assert.equal(v.server_log_entry.agent_id, 'server');
});
