/**
 * Property-based fuzzing of every REST endpoint: malformed JSON, wrong types, huge and deeply nested
 * values, unicode edge cases, prototype-pollution keys and odd headers must never produce a 5xx,
 * and every error must be JSON with a code. Seeded and counted for reproduction:
 * AMTP_FUZZ_SEED, AMTP_FUZZ_RUNS (per endpoint).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { routes } from '../../src/http/routes.js';
import { register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

const SEED = Number(process.env.AMTP_FUZZ_SEED ?? 20261124);
const RUNS = Number(process.env.AMTP_FUZZ_RUNS ?? 25);

const nasty = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  '\u0000',
  '\uFEFF',
  '\uD800',
  '🙂'.repeat(50),
  'a2a_' + '0'.repeat(32),
  'msg_' + 'f'.repeat(32),
  '../../etc/passwd',
  '%00',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '9'.repeat(400),
  '-1',
  'NaN',
  'true',
);
const leaf = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  nasty,
  fc.string({ minLength: 70_000, maxLength: 70_001 }),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { maxDepth: 4 },
    leaf,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), nasty), tie('node'), { maxKeys: 5 }),
  ),
})).node;
const deep = fc.integer({ min: 50, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const protoBody = fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '{"name":"x","__proto__":null}');
const rawBody = fc.oneof(
  value.map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 200 }),
  deep,
  protoBody,
  fc.constantFrom('{', '{"a":', 'nul', '[1,2', '"unterminated', '{"a":1}}', '\u0000'),
);
/** Percent-encodes, sending a raw invalid escape where the string holds a lone surrogate. */
const encode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};
const segment = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 80 }),
    nasty.filter((s) => s.length > 0),
  )
  .map(encode);
const query = fc.dictionary(
  fc.oneof(
    fc.constantFrom('limit', 'cursor', 'unread_only', 'wait', 'order', 'status', 'direction', 'last_event_id'),
    fc.string({ maxLength: 8 }),
  ),
  fc.oneof(fc.string({ maxLength: 30 }), nasty),
  { maxKeys: 4 },
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  'application/json; charset=latin1',
);

describe('fuzzing', () => {
  let t: TestServer;
  let agent: TestAgent;
  before(async () => {
    t = await startServer({
      AMTP_RATE_REGISTER_PER_HOUR: '0',
      AMTP_RATE_SEND_PER_MINUTE: '0',
      AMTP_RATE_PAIR_PER_MINUTE: '0',
      AMTP_RATE_REQUESTS_PER_HOUR: '0',
      AMTP_MAX_WAIT_SECONDS: '0',
    });
    agent = await register(t.url);
  });
  after(() => t.close());

  test(`every endpoint × ${RUNS} hostile requests (seed ${SEED}): never a 5xx, always a JSON error with a code`, async () => {
    let total = 0;
    for (const r of routes.filter((x) => !/rotate/.test(x.url))) {
      await fc.assert(
        fc.asyncProperty(
          rawBody,
          query,
          fc.array(segment, { minLength: 2, maxLength: 2 }),
          contentType,
          fc.boolean(),
          async (body, q, segs, type, authed) => {
            let i = 0;
            const path = r.url.replace(/:\w+/g, () => segs[i++] ?? 'x');
            const search = new URLSearchParams(q).toString();
            const headers: Record<string, string> = {};
            if (authed) headers.authorization = `Bearer ${agent.key}`;
            if (type) headers['content-type'] = type;
            const hasBody = r.method !== 'GET';
            const res = await fetch(`${t.url}${path}${search ? `?${search}` : ''}`, {
              method: r.method,
              headers,
              body: hasBody ? body : undefined,
            });
            const text = await res.text();
            total++;
            assert.ok(res.status < 500, `${r.method} ${path} → ${res.status}: ${text.slice(0, 200)}`);
            if (res.status >= 400) {
              const parsed = JSON.parse(text);
              assert.equal(typeof parsed.error?.code, 'string', text.slice(0, 200));
              assert.equal(typeof parsed.error?.message, 'string');
            }
          },
        ),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    }
    console.log(`fuzz: ${total} requests over ${routes.length - 1} endpoints (${RUNS} each, seed ${SEED}), zero 5xx`);
  });

  test('header abuse: huge headers, odd auth schemes, duplicate content-length', async () => {
    const res = await fetch(`${t.url}/api/me`, { headers: { authorization: `Bearer ${'a'.repeat(10_000)}` } });
    assert.equal(res.status, 401);
    for (const auth of ['Bearer', 'Bearer  ', `Basic ${agent.key}`, `bearer ${agent.key} extra`, `Bearer\t${agent.key}`]) {
      const r = await fetch(`${t.url}/api/me`, { headers: { authorization: auth } });
      assert.ok(r.status === 401 || r.status === 200, `${auth}: ${r.status}`);
    }
    const tooBig = await fetch(`${t.url}/api/me`, { headers: { 'x-filler': 'x'.repeat(20_000) } });
    assert.equal(tooBig.status, 431);
  });
});
