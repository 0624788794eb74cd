/**
 * The AMTP constructions: interop with an independent implementation (libsodium + node:crypto),
 * and property tests that any bit flip, re-addressing or re-labelling is detected.
 */
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { fromBase64Url, toBase64Url, utf8 } from './encoding.js';
import { deliveryMac, verifyDeliveryMac } from './hmac.js';
import { canonicalBytes } from './jcs.js';
import { signRotation, verifyRotation } from './rotation.js';
import {
  generateEncryptionKeyPair,
  HKDF_INFO,
  maxSealedPlaintextBytes,
  openMessage,
  sealAssociatedData,
  sealMessage,
  SEAL_ALG,
  type SealBinding,
} from './seal.js';
import { generateSigningKeyPair, messageSigningInput, signMessage, verifyMessageSignature, type SignedFields } from './sign.js';

// libsodium-wrappers' ESM build is broken upstream; its CommonJS build is fine.
const sodium = createRequire(import.meta.url)('libsodium-wrappers') as typeof import('libsodium-wrappers');

const SEED = 20261124;
const binding: SealBinding = {
  sender_id: 'a2a_' + 'a'.repeat(32),
  recipient_id: 'a2a_' + 'b'.repeat(32),
  scope: 'message',
  client_id: 'c-1',
};

before(async () => {
  await sodium.ready;
});

/** Flips one bit of a base64url value. */
function flip(value: string, bit: number): string {
  const bytes = fromBase64Url(value);
  bytes[Math.floor(bit / 8) % bytes.length]! ^= 1 << (bit % 8);
  return toBase64Url(bytes);
}

describe('interop with libsodium', () => {
  test('an envelope sealed by us opens with libsodium + node:crypto HKDF', () => {
    const recipient = sodium.crypto_box_keypair();
    const envelope = sealMessage({ subject: 'hi', body: 'sealed body ✓', payload: { n: 1 } }, toBase64Url(recipient.publicKey), binding);
    assert.equal(envelope.alg, SEAL_ALG);
    const epk = fromBase64Url(envelope.epk);
    const shared = sodium.crypto_scalarmult(recipient.privateKey, epk);
    const key = new Uint8Array(hkdfSync('sha256', shared, Buffer.concat([epk, recipient.publicKey]), HKDF_INFO, 32));
    const plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      fromBase64Url(envelope.ciphertext),
      sealAssociatedData(binding),
      fromBase64Url(envelope.nonce),
      key,
    );
    assert.deepEqual(JSON.parse(Buffer.from(plaintext).toString()), { body: 'sealed body ✓', payload: { n: 1 }, subject: 'hi' });
  });

  test('an envelope built with libsodium + node:crypto opens with our code', () => {
    const recipient = generateEncryptionKeyPair();
    const recipientPk = fromBase64Url(recipient.publicKey);
    const eph = sodium.crypto_box_keypair();
    const shared = sodium.crypto_scalarmult(eph.privateKey, recipientPk);
    const key = new Uint8Array(hkdfSync('sha256', shared, Buffer.concat([eph.publicKey, recipientPk]), HKDF_INFO, 32));
    const nonce = sodium.randombytes_buf(24);
    const plaintext = canonicalBytes({ subject: null, body: 'from libsodium', payload: null });
    const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, sealAssociatedData(binding), null, nonce, key);
    const opened = openMessage(
      { alg: SEAL_ALG, epk: toBase64Url(eph.publicKey), nonce: toBase64Url(nonce), ciphertext: toBase64Url(ciphertext) },
      recipient.secretKey,
      binding,
    );
    assert.deepEqual(opened, { subject: null, body: 'from libsodium', payload: null });
  });

  test('ed25519 signatures verify across implementations', () => {
    const ours = generateSigningKeyPair();
    const fields: SignedFields = {
      sender_id: binding.sender_id,
      recipient_id: binding.recipient_id,
      scope: 'message',
      body: 'hi',
      sig_nonce: 'n',
      signed_at: '2026-01-01T00:00:00.000Z',
    };
    const sig = signMessage(fields, ours.secretKey, { nonce: 'n', now: new Date('2026-01-01T00:00:00.000Z') });
    assert.equal(
      sodium.crypto_sign_verify_detached(fromBase64Url(sig.ed25519_signature), messageSigningInput(fields), fromBase64Url(ours.publicKey)),
      true,
    );
    const theirs = sodium.crypto_sign_seed_keypair(sodium.randombytes_buf(32));
    const theirSig = sodium.crypto_sign_detached(messageSigningInput(fields), theirs.privateKey);
    assert.equal(verifyMessageSignature(fields, toBase64Url(theirSig), toBase64Url(theirs.publicKey)), true);
  });
});

describe('properties (fast-check, seed ' + SEED + ')', () => {
  const keys = generateSigningKeyPair();
  const enc = generateEncryptionKeyPair();
  const text = fc.string({ maxLength: 200 });
  const fieldsArb = fc.record({
    sender_id: fc.constant(binding.sender_id),
    recipient_id: fc.constant(binding.recipient_id),
    scope: fc.constantFrom('message', 'scheduling'),
    intent: fc.option(fc.constantFrom('scheduling', 'casual')),
    subject: fc.option(text),
    body: fc.option(text),
    payload: fc.option(fc.jsonValue().filter((v) => JSON.stringify(v) !== undefined)),
    reply_to_id: fc.option(fc.constant('msg_' + '1'.repeat(32))),
    client_id: fc.option(fc.string({ minLength: 1, maxLength: 20 })),
  });
  const run = { seed: SEED, numRuns: 150 };

  test('flipping any bit of a signature, or changing any signed field, is detected', () => {
    fc.assert(
      fc.property(
        fieldsArb,
        fc.nat(),
        fc.constantFrom('scope', 'subject', 'body', 'recipient_id', 'client_id', 'reply_to_id', 'signed_at'),
        (f, bit, field) => {
          const sig = signMessage(f, keys.secretKey);
          const signed = { ...f, sig_nonce: sig.sig_nonce, signed_at: sig.signed_at };
          assert.equal(verifyMessageSignature(signed, sig.ed25519_signature, keys.publicKey), true);
          assert.equal(verifyMessageSignature(signed, flip(sig.ed25519_signature, bit % 512), keys.publicKey), false);
          const changed = { ...signed, [field]: `${(signed as Record<string, string>)[field] ?? ''}x` };
          assert.equal(verifyMessageSignature(changed, sig.ed25519_signature, keys.publicKey), false);
          assert.equal(
            verifyMessageSignature({ ...signed, sig_nonce: flip(sig.sig_nonce, bit % 128) }, sig.ed25519_signature, keys.publicKey),
            false,
          );
        },
      ),
      run,
    );
  });

  test('flipping any bit of a sealed envelope, or moving it to another recipient, sender, scope or client_id, fails to open', () => {
    fc.assert(
      fc.property(
        text,
        fc.nat(),
        fc.constantFrom('epk', 'nonce', 'ciphertext'),
        fc.constantFrom<keyof SealBinding>('sender_id', 'recipient_id', 'scope', 'client_id'),
        (body, bit, part, moved) => {
          const envelope = sealMessage({ body }, enc.publicKey, binding);
          assert.equal(openMessage(envelope, enc.secretKey, binding).body, body);
          const bits = fromBase64Url(envelope[part]).length * 8;
          assert.throws(
            () => openMessage({ ...envelope, [part]: flip(envelope[part], bit % bits) }, enc.secretKey, binding),
            /seal: cannot open/,
          );
          assert.throws(() => openMessage(envelope, enc.secretKey, { ...binding, [moved]: `${binding[moved]}x` }), /seal: cannot open/);
          assert.throws(() => openMessage(envelope, generateEncryptionKeyPair().secretKey, binding), /seal: cannot open/);
        },
      ),
      run,
    );
  });

  test('changing any field of a delivered message breaks its delivery MAC', () => {
    fc.assert(
      fc.property(fieldsArb, fc.constantFrom('subject', 'body', 'scope', 'sender_id'), (f, field) => {
        const message = { ...f, id: 'msg_1', untrusted: true };
        const mac = deliveryMac('secret-1', message);
        assert.equal(verifyDeliveryMac('secret-1', { ...message, delivery_mac: mac }), true);
        assert.equal(verifyDeliveryMac('secret-2', { ...message, delivery_mac: mac }), false);
        assert.equal(
          verifyDeliveryMac('secret-1', {
            ...message,
            [field]: `${(message as unknown as Record<string, string>)[field] ?? ''}x`,
            delivery_mac: mac,
          }),
          false,
        );
      }),
      run,
    );
  });
});

test('rotation statements verify only with the old key and unchanged fields', () => {
  const old = generateSigningKeyPair();
  const next = generateSigningKeyPair();
  const fields = {
    agent_id: binding.sender_id,
    old_public_key: old.publicKey,
    new_public_key: next.publicKey,
    new_encryption_key: null,
    rotated_at: '2026-01-01T00:00:00.000Z',
  };
  const sig = signRotation(fields, old.secretKey);
  assert.equal(verifyRotation(fields, sig), true);
  assert.equal(verifyRotation({ ...fields, new_public_key: old.publicKey }, sig), false);
  assert.equal(verifyRotation(fields, signRotation(fields, next.secretKey)), false);
});

test('worked example from docs/SPEC.md: fixed keys and nonce give fixed bytes', () => {
  const recipientSk = toBase64Url(new Uint8Array(32).fill(2));
  const recipientPk = toBase64Url(sodium.crypto_scalarmult_base(fromBase64Url(recipientSk)));
  const envelope = sealMessage({ subject: 'hi', body: 'hello', payload: null }, recipientPk, binding, {
    secretKey: new Uint8Array(32).fill(1),
    nonce: new Uint8Array(24).fill(3),
  });
  assert.equal(recipientPk, 'zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVk');
  assert.deepEqual(envelope, {
    alg: 'x25519-xchacha20poly1305',
    epk: 'pOCSkrZRwni5dyxWn1-puxPZBrRqtoyd-dwrRAn4ogk',
    nonce: 'AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMD',
    ciphertext: 'Gh2IZAaxXklGZrXAQ_HSS8vufGV0o1h7GsT1NVD3zMw3E_GSkhPZsYjfGgtwUIIQk5Zb6RccZjXwBG1jAto',
  });
  assert.deepEqual(openMessage(envelope, recipientSk, binding), { subject: 'hi', body: 'hello', payload: null });
  assert.equal(
    new TextDecoder().decode(sealAssociatedData(binding)),
    `{"client_id":"c-1","recipient_id":"${binding.recipient_id}","scope":"message","sender_id":"${binding.sender_id}","v":"amtp-seal-1"}`,
  );
  assert.equal(utf8('x').length, 1);
});

test('maxSealedPlaintextBytes is exact: that much plaintext fits the server measure once sealed, one byte more does not', () => {
  const { publicKey } = generateEncryptionKeyPair();
  const binding = { sender_id: 'a2a_1', recipient_id: 'a2a_2', scope: 'message', client_id: null };
  for (const max of [4096, 65_536, 100_001]) {
    const ceiling = maxSealedPlaintextBytes(max);
    const measured = (plaintextBytes: number) => {
      const content = {
        subject: null,
        body: 'x'.repeat(plaintextBytes - canonicalBytes({ subject: null, body: '', payload: null }).length),
        payload: null,
      };
      assert.equal(canonicalBytes(content).length, plaintextBytes);
      return Buffer.byteLength(JSON.stringify([null, null, null, sealMessage(content, publicKey, binding).ciphertext]));
    };
    assert.ok(measured(ceiling) <= max, `${max}: the ceiling fits`);
    assert.ok(measured(ceiling + 1) > max, `${max}: one more byte does not`);
  }
});
