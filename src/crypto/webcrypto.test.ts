/**
 * Non-extractable WebCrypto keys (the browser's keys at rest) compute exactly what @noble computes
 * with the raw bytes: RFC 8032 and RFC 7748 vectors, random keys, and the AMTP constructions built
 * on them (message signatures, rotation statements, sealed envelopes). Node's WebCrypto runs the same
 * code the web UI runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { bytesToHex, fromBase64Url, hexToBytes, toBase64Url } from './encoding.js';
import { signRotation, signRotationWith } from './rotation.js';
import { generateEncryptionKeyPair, openMessage, openMessageWith, sealMessage } from './seal.js';
import { generateSigningKeyPair, signMessage, signMessageWith } from './sign.js';
import { importEncryptionKey, importSigningKey, supportsNonExtractableKeys, webCryptoSharedSecret, webCryptoSigner } from './webcrypto.js';

const pair = (secretHex: string, publicHex: string) => ({
  secretKey: toBase64Url(hexToBytes(secretHex)),
  publicKey: toBase64Url(hexToBytes(publicHex)),
});

// RFC 8032 §7.1, tests 1–3.
const RFC8032 = [
  {
    sk: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    sk: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    sk: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pk: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

test('this runtime supports non-extractable Ed25519 and X25519 keys, and they cannot be exported', async () => {
  assert.equal(await supportsNonExtractableKeys(), true);
  const signing = await importSigningKey(generateSigningKeyPair());
  const encryption = await importEncryptionKey(generateEncryptionKeyPair());
  for (const key of [signing, encryption]) {
    assert.equal(key.extractable, false);
    for (const format of ['jwk', 'pkcs8', 'raw'] as const) await assert.rejects(crypto.subtle.exportKey(format, key));
  }
});

test('Ed25519: WebCrypto signs the RFC 8032 vectors byte for byte as @noble does', async () => {
  for (const v of RFC8032) {
    const key = await importSigningKey(pair(v.sk, v.pk));
    const msg = hexToBytes(v.msg);
    assert.equal(bytesToHex(await webCryptoSigner(key)(msg)), v.sig);
    assert.equal(bytesToHex(ed25519.sign(msg, hexToBytes(v.sk))), v.sig);
  }
});

test('Ed25519: on random keys and messages, WebCrypto and @noble give the same signature, message and rotation statements too', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (msg) => {
      const keys = generateSigningKeyPair();
      const sign = webCryptoSigner(await importSigningKey(keys));
      assert.equal(toBase64Url(await sign(msg)), toBase64Url(ed25519.sign(msg, fromBase64Url(keys.secretKey))));
      const fields = { sender_id: 'a2a_s', recipient_id: 'a2a_r', scope: 'message', body: toBase64Url(msg) };
      const opts = { nonce: 'n', now: new Date('2026-01-01T00:00:00.000Z') };
      assert.deepEqual(await signMessageWith(fields, sign, opts), signMessage(fields, keys.secretKey, opts));
      const rotation = {
        agent_id: 'a2a_s',
        old_public_key: keys.publicKey,
        new_public_key: 'new',
        new_encryption_key: null,
        rotated_at: opts.now.toISOString(),
      };
      assert.equal(await signRotationWith(rotation, sign), signRotation(rotation, keys.secretKey));
    }),
    { numRuns: 100, seed: 20261127 },
  );
});

test('X25519: WebCrypto derives the RFC 7748 §6.1 shared secret, and @noble’s on random keys', async () => {
  const alice = pair(
    '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
    '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  );
  const bobPublic = hexToBytes('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  assert.equal(
    bytesToHex(await webCryptoSharedSecret(await importEncryptionKey(alice))(bobPublic)),
    '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  );
  for (let i = 0; i < 50; i++) {
    const mine = generateEncryptionKeyPair();
    const peer = x25519.utils.randomSecretKey();
    const viaWebCrypto = await webCryptoSharedSecret(await importEncryptionKey(mine))(x25519.getPublicKey(peer));
    assert.equal(bytesToHex(viaWebCrypto), bytesToHex(x25519.getSharedSecret(peer, fromBase64Url(mine.publicKey))));
  }
});

test('sealed envelopes open with a non-extractable key exactly as with the raw one, and refuse what the raw one refuses', async () => {
  const binding = { sender_id: 'a2a_s', recipient_id: 'a2a_r', scope: 'message', client_id: null };
  const mine = generateEncryptionKeyPair();
  const derive = webCryptoSharedSecret(await importEncryptionKey(mine));
  const envelope = sealMessage({ subject: 'hi', body: 'sealed', payload: { n: 1 } }, mine.publicKey, binding);
  assert.deepEqual(await openMessageWith(envelope, derive, mine.publicKey, binding), openMessage(envelope, mine.secretKey, binding));
  await assert.rejects(openMessageWith(envelope, derive, mine.publicKey, { ...binding, scope: 'other' }), /seal: cannot open/);
  const stranger = webCryptoSharedSecret(await importEncryptionKey(generateEncryptionKeyPair()));
  await assert.rejects(openMessageWith(envelope, stranger, mine.publicKey, binding), /seal: cannot open/);
  await assert.rejects(
    openMessageWith({ ...envelope, epk: toBase64Url(new Uint8Array(32)) }, derive, mine.publicKey, binding),
    /seal: cannot open/,
    'a low-order ephemeral key',
  );
});
