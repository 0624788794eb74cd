/** RFC 9421 Appendix B.2.6 (ed25519, key test-key-ed25519 of B.1.4) through our signature base, signer and verifier. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentDigest, digestMatches, parseSignature, signatureBase, signRequest, verifySignature } from './http-signature.js';
import { fromBase64Url } from './encoding.js';

// RFC 9421 Appendix B.1.4 (JWK "x" and "d").
const publicKey = fromBase64Url('JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs');
const secretKey = fromBase64Url('n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU');
// The RFC's test-request (Appendix B.2), the parts B.2.6 covers.
const request = {
  method: 'POST',
  url: 'https://example.com/foo?param=Value&Pet=dog',
  headers: {
    host: 'example.com',
    date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    'content-type': 'application/json',
    'content-digest': 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
    'content-length': '18',
  },
};
const components = ['date', '@method', '@path', '@authority', 'content-type', 'content-length'];
const params = { created: 1618884473, keyid: 'test-key-ed25519' };
const expectedBase = [
  '"date": Tue, 20 Apr 2021 02:07:55 GMT',
  '"@method": POST',
  '"@path": /foo',
  '"@authority": example.com',
  '"content-type": application/json',
  '"content-length": 18',
  '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
].join('\n');
const expectedInput =
  'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
const expectedSignature = 'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:';

test('RFC 9421 B.2.6: the signature base, Signature-Input and Signature are the RFC’s, byte for byte', () => {
  assert.equal(signatureBase(request, components, params), expectedBase);
  const signed = signRequest(request, components, params, secretKey, 'sig-b26');
  assert.equal(signed['signature-input'], expectedInput);
  assert.equal(signed.signature, expectedSignature);
});

test('RFC 9421 B.2.6: the RFC’s signature verifies; a changed component or key does not', () => {
  const headers = { ...request.headers, 'signature-input': expectedInput, signature: expectedSignature };
  const parsed = parseSignature(headers);
  assert.deepEqual(parsed.components, components);
  assert.deepEqual(parsed.params, params);
  assert.equal(verifySignature({ ...request, headers }, parsed, publicKey), true);
  assert.equal(verifySignature({ ...request, method: 'PUT', headers }, parsed, publicKey), false);
  assert.equal(verifySignature({ ...request, headers: { ...headers, 'content-length': '19' } }, parsed, publicKey), false);
  assert.equal(verifySignature({ ...request, headers }, parsed, new Uint8Array(32)), false);
});

test('RFC 9530 Content-Digest: the RFC’s sha-256 example, and a body that does not match', () => {
  // RFC 9530 §2, example: {"hello": "world"}
  const body = '{"hello": "world"}\n';
  assert.equal(contentDigest(body), 'sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:');
  assert.equal(digestMatches(contentDigest(body), body), true);
  assert.equal(digestMatches(contentDigest(body), body + ' '), false);
  assert.equal(digestMatches('sha-256=:garbage', body), false);
});
