import assert from 'node:assert/strict';
import { test } from 'node:test';
import canonicalizeModule from 'canonicalize';
import { canonicalJson } from './jcs.js';

const reference = canonicalizeModule as unknown as (value: unknown) => string;

/** Deterministic pseudo-random JSON: keys from a pool with index-like, astral, accented and control-character keys. */
function randomJson(seed: number): unknown {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const keys = ['a', 'b', 'B', '10', '9', '01', 'é', 'e\u0301', '\u{1F600}', '\u20ac', '', ' ', '\n', 'sender_id', 'body', 'zz'];
  const leaf = () => [null, true, false, 0, -0, 1e21, 1e-7, 123.456, -5, 'x', '\u2028', 'a"b\\c', '\ud800'][Math.floor(next() * 13)];
  const build = (depth: number): unknown => {
    const r = next();
    if (depth > 3 || r < 0.4) return leaf();
    if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => build(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 6); i > 0; i--) o[keys[Math.floor(next() * keys.length)]!] = build(depth + 1);
    return o;
  };
  return build(0);
}

test('canonical JSON agrees with the reference implementation on 5,000 random values', () => {
  for (let seed = 1; seed <= 5000; seed++) {
    const value = randomJson(seed);
    assert.equal(canonicalJson(value), reference(value), JSON.stringify(value));
  }
});

test('canonical JSON refuses what has no JSON form', () => {
  assert.throws(() => canonicalJson(undefined), /undefined/);
  assert.throws(() => canonicalJson({ a: [1, undefined] }), /undefined/);
  assert.throws(() => canonicalJson({ a: Number.NaN }), /non-finite/);
  assert.throws(() => canonicalJson([Infinity]), /non-finite/);
  assert.equal(canonicalJson({ b: undefined, a: new Date(0) }), '{"a":"1970-01-01T00:00:00.000Z"}');
});
