/** The worked RFC 9421 example of SPEC §19.4, as printed, recomputed through the federation signer and verified. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  contentDigest,
  digestMatches,
  parseSignature,
  signatureBase,
  signRequest,
  verifySignature,
} from '../../src/crypto/http-signature.js';
import { fromBase64Url } from '../../src/crypto/encoding.js';
import { COVERED } from '../../src/core/federation.js';

const spec = readFileSync(new URL('../../docs/SPEC.md', import.meta.url), 'utf8');
const block = /<!-- federation:example -->([\s\S]*?)<!-- \/federation:example -->/.exec(spec)?.[1] ?? '';
const [http, base] = [...block.matchAll(/```[a-z]*\n([\s\S]*?)\n```/g)].map((m) => m[1]!);

test('SPEC §19.4 worked example: digest, signature base, Signature-Input and Signature are what the implementation computes', () => {
  assert.ok(http && base, 'the example is in the SPEC');
  const [head, body] = http.split('\n\n') as [string, string];
  const [requestLine, ...headerLines] = head.split('\n');
  const [method, url] = requestLine!.split(' ') as [string, string];
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
  assert.equal(headers['content-digest'], contentDigest(body));
  assert.ok(digestMatches(headers['content-digest'], body));

  const parsed = parseSignature(headers, 'amtp');
  assert.deepEqual(parsed.components, [...COVERED]);
  const request = { method, url, headers };
  assert.equal(signatureBase(request, COVERED, parsed.params), base);
  // RFC 9421 Appendix B.1.4's test-key-ed25519 (ed25519 signatures are deterministic).
  const secret = fromBase64Url('n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU');
  const signed = signRequest(
    {
      method,
      url,
      headers: {
        'content-type': headers['content-type']!,
        'content-digest': headers['content-digest'],
        'amtp-origin': headers['amtp-origin']!,
      },
    },
    COVERED,
    parsed.params,
    secret,
    'amtp',
  );
  assert.equal(signed['signature-input'], headers['signature-input']);
  assert.equal(signed.signature, headers.signature);
  assert.ok(verifySignature(request, parsed, fromBase64Url('JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs')));
});
