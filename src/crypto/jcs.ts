/** RFC 8785 JSON Canonicalization Scheme: the byte form that signatures, MACs and seals cover. */
import canonicalizeModule from 'canonicalize';
import { utf8 } from './encoding.js';

// The package is CommonJS; its typings describe an ESM default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export function canonicalJson(value: unknown): string {
  assertJson(value);
  const out = canonicalize(value);
  if (out === undefined) throw new Error('jcs: value has no JSON form');
  return out;
}

export const canonicalBytes = (value: unknown) => utf8(canonicalJson(value));

function assertJson(value: unknown): void {
  if (value === undefined) throw new Error('jcs: undefined is not JSON');
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('jcs: non-finite numbers are not JSON');
  if (Array.isArray(value)) value.forEach(assertJson);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) if (v !== undefined) assertJson(v);
}
