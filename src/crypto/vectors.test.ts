/**
 * Known-answer tests: RFC 8032 (ed25519), RFC 7748 (X25519), the CFRG XChaCha20-Poly1305 draft,
 * RFC 4231 (HMAC-SHA256), RFC 5869 (HKDF), every Project Wycheproof case for ed25519, x25519 and
 * xchacha20-poly1305, and every RFC 8785 (JCS) input/output pair (vectors in test/vectors).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { hmacSha256 } from './hmac.js';
import { verifyEd25519 } from './node-verify.js';
import { canonicalJson } from './jcs.js';

const vectors = new URL('../../test/vectors/', import.meta.url);
const wycheproof = (name: string) => JSON.parse(readFileSync(new URL(`wycheproof/${name}`, vectors), 'utf8'));
const h = hexToBytes;

describe('known-answer tests', () => {
  test('RFC 8032 §7.1 ed25519: TEST 1, 2, 3 and SHA(abc)', () => {
    const cases = [
      [
        '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
        'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
        '',
        'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
      ],
      [
        '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
        '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
        '72',
        '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
      ],
      [
        'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
        'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
        'af82',
        '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
      ],
      [
        '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
        'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
        createHash('sha512').update('abc').digest('hex'),
        'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
      ],
    ];
    for (const [sk, pk, msg, sig] of cases) {
      assert.equal(bytesToHex(ed25519.getPublicKey(h(sk!))), pk);
      assert.equal(bytesToHex(ed25519.sign(h(msg!), h(sk!))), sig);
      assert.equal(ed25519.verify(h(sig!), h(msg!), h(pk!)), true);
      assert.equal(verifyEd25519(h(msg!), h(sig!), h(pk!)), true, 'server (OpenSSL) verifier');
      const tampered = h(sig!);
      tampered[0]! ^= 1;
      assert.equal(verifyEd25519(h(msg!), tampered, h(pk!)), false);
    }
  });

  test('RFC 7748 §5.2 X25519 scalar multiplication and §6.1 Diffie-Hellman', () => {
    assert.equal(
      bytesToHex(
        x25519.scalarMult(
          h('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'),
          h('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'),
        ),
      ),
      'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
    );
    assert.equal(
      bytesToHex(
        x25519.scalarMult(
          h('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'),
          h('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493'),
        ),
      ),
      '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
    );
    const alice = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
    const bob = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
    assert.equal(bytesToHex(x25519.getPublicKey(h(alice))), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    assert.equal(bytesToHex(x25519.getPublicKey(h(bob))), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    assert.equal(bytesToHex(x25519.getSharedSecret(h(alice), x25519.getPublicKey(h(bob)))), shared);
    assert.equal(bytesToHex(x25519.getSharedSecret(h(bob), x25519.getPublicKey(h(alice)))), shared);
  });

  test('draft-irtf-cfrg-xchacha-03 §A.3.1 XChaCha20-Poly1305', () => {
    const plaintext = utf8ToBytes(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const cipher = xchacha20poly1305(
      h('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
      h('404142434445464748494a4b4c4d4e4f5051525354555657'),
      h('50515253c0c1c2c3c4c5c6c7'),
    );
    const sealed = cipher.encrypt(plaintext);
    assert.equal(
      bytesToHex(sealed),
      'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
        'c0875924c1c7987947deafd8780acf49',
    );
    assert.deepEqual(cipher.decrypt(sealed), plaintext);
  });

  test('RFC 4231 HMAC-SHA256 test cases 1–7', () => {
    const aa131 = 'aa'.repeat(131);
    const cases: [string, Uint8Array, string][] = [
      ['0b'.repeat(20), utf8ToBytes('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
      [
        bytesToHex(utf8ToBytes('Jefe')),
        utf8ToBytes('what do ya want for nothing?'),
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      ],
      ['aa'.repeat(20), h('dd'.repeat(50)), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
      [
        '0102030405060708090a0b0c0d0e0f10111213141516171819',
        h('cd'.repeat(50)),
        '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
      ],
      ['0c'.repeat(20), utf8ToBytes('Test With Truncation'), 'a3b6167473100ee06e0c796c2955552b'],
      [
        aa131,
        utf8ToBytes('Test Using Larger Than Block-Size Key - Hash Key First'),
        '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
      ],
      [
        aa131,
        utf8ToBytes(
          'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
        ),
        '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
      ],
    ];
    for (const [key, data, mac] of cases) assert.equal(bytesToHex(hmacSha256(h(key), data)).slice(0, mac.length), mac);
  });

  test('RFC 5869 HKDF-SHA256 test case 1', () => {
    const okm = hkdf(sha256, h('0b'.repeat(22)), h('000102030405060708090a0b0c'), h('f0f1f2f3f4f5f6f7f8f9'), 42);
    assert.equal(bytesToHex(okm), '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
});

describe('Project Wycheproof (every case)', () => {
  test('the copied vector files match SHA256SUMS', () => {
    const sums = readFileSync(new URL('wycheproof/SHA256SUMS', vectors), 'utf8').trim().split('\n');
    assert.equal(sums.length, 3);
    for (const line of sums) {
      const [sum, file] = line.split(/\s+/);
      assert.equal(
        createHash('sha256')
          .update(readFileSync(new URL(`wycheproof/${file}`, vectors)))
          .digest('hex'),
        sum,
        file,
      );
    }
  });

  test('ed25519 verify', () => {
    const file = wycheproof('ed25519_test.json');
    let count = 0;
    for (const group of file.testGroups) {
      const pk = h(group.publicKey.pk);
      for (const t of group.tests) {
        let ok: boolean;
        try {
          ok = ed25519.verify(h(t.sig), h(t.msg), pk, { zip215: false });
        } catch {
          ok = false;
        }
        assert.equal(ok, t.result === 'valid', `tcId ${t.tcId}: ${t.comment}`);
        assert.equal(
          verifyEd25519(h(t.msg), h(t.sig), pk),
          t.result === 'valid',
          `server (OpenSSL) verifier, tcId ${t.tcId}: ${t.comment}`,
        );
        count++;
      }
    }
    assert.equal(count, file.numberOfTests);
    console.log(`wycheproof ed25519: ${count} cases, each through @noble and through the server's OpenSSL verifier`);
  });

  test('x25519 shared secrets', () => {
    const file = wycheproof('x25519_test.json');
    let count = 0;
    for (const group of file.testGroups) {
      for (const t of group.tests) {
        let shared: string | null;
        try {
          shared = bytesToHex(x25519.getSharedSecret(h(t.private), h(t.public)));
        } catch {
          shared = null;
        }
        if (t.result === 'valid') assert.equal(shared, t.shared, `tcId ${t.tcId}: ${t.comment}`);
        else if (shared === null) assert.ok(/^0+$/.test(t.shared), `tcId ${t.tcId}: refused only an all-zero shared secret`);
        else assert.equal(shared, t.shared, `tcId ${t.tcId}: ${t.comment}`);
        count++;
      }
    }
    assert.equal(count, file.numberOfTests);
    console.log(`wycheproof x25519: ${count} cases`);
  });

  test('xchacha20-poly1305 seal and open', () => {
    const file = wycheproof('xchacha20_poly1305_test.json');
    let count = 0;
    for (const group of file.testGroups) {
      for (const t of group.tests) {
        const run = () => {
          const cipher = xchacha20poly1305(h(t.key), h(t.iv), h(t.aad));
          const sealed = cipher.encrypt(h(t.msg));
          const opened = xchacha20poly1305(h(t.key), h(t.iv), h(t.aad)).decrypt(h(t.ct + t.tag));
          return { sealed: bytesToHex(sealed), opened: bytesToHex(opened) };
        };
        if (t.result === 'valid') {
          const { sealed, opened } = run();
          assert.equal(sealed, t.ct + t.tag, `tcId ${t.tcId}`);
          assert.equal(opened, t.msg, `tcId ${t.tcId}`);
        } else {
          assert.throws(() => xchacha20poly1305(h(t.key), h(t.iv), h(t.aad)).decrypt(h(t.ct + t.tag)), `tcId ${t.tcId}: ${t.comment}`);
        }
        count++;
      }
    }
    assert.equal(count, file.numberOfTests);
    console.log(`wycheproof xchacha20-poly1305: ${count} cases`);
  });
});

test('RFC 8785 (JCS): every input/output pair, byte for byte', () => {
  const names = readdirSync(new URL('jcs/input/', vectors));
  assert.ok(names.length >= 6);
  for (const name of names) {
    const input = JSON.parse(readFileSync(new URL(`jcs/input/${name}`, vectors), 'utf8'));
    const expected = readFileSync(new URL(`jcs/output/${name}`, vectors), 'utf8');
    assert.equal(canonicalJson(input), expected.replace(/\n$/, ''), name);
  }
  console.log(`jcs: ${names.length} pairs`);
});
