/** SPEC §12: base64url is decoded strictly — a non-canonical encoding is refused at the door. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKeyPair } from '../../src/crypto/sign.js';
import { client, connect, register, startServer } from '../helpers/server.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The same bytes with a non-zero unused bit in the last character (43 characters carry 2 spare bits). */
const nonCanonical = (b64u: string) => b64u.slice(0, -1) + ALPHABET[ALPHABET.indexOf(b64u.at(-1)!) | 1];

test('a public key or sealed field in non-canonical base64url is 400 invalid_request', async () => {
  const t = await startServer();
  try {
    const key = generateSigningKeyPair().publicKey;
    const bad = nonCanonical(key);
    assert.notEqual(bad, key);
    const res = await client(t.url).post('/api/register', { name: `b64-${process.pid}`, public_key: bad });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'invalid_request');
    assert.match(JSON.stringify(res.body.error.issues), /canonical base64url/);
    assert.equal((await client(t.url).post('/api/register', { name: `b64-${process.pid}`, public_key: key })).status, 201);

    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    const sealed = {
      alg: 'x25519-xchacha20poly1305',
      epk: nonCanonical(generateSigningKeyPair().publicKey),
      nonce: 'A'.repeat(32),
      ciphertext: 'AAAA',
    };
    const send = await a.api.post('/api/messages', { recipient_id: b.id, sealed });
    assert.equal(send.status, 400);
    assert.match(JSON.stringify(send.body.error.issues), /epk is not canonical/);
  } finally {
    await t.close();
  }
});
