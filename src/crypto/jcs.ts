/** RFC 8785 JSON Canonicalization Scheme: the byte form that signatures, MACs and seals cover. */
import canonicalizeModule from 'canonicalize';
import { utf8 } from './encoding.js';

// The package is CommonJS; its typings describe an ESM default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/**
 * JCS is ECMAScript's JSON.stringify with object keys sorted by UTF-16 code units, so a copy with its
 * keys inserted in that order, stringified once, is the canonical form — several times faster than
 * the reference package's string building (the inbox MACs every message). Objects whose keys look like
 * array indices keep a different insertion order in JavaScript: those values go to the package.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw new Error('jcs: undefined is not JSON');
  let indexLike = false;
  const ordered = orderKeys(value, () => (indexLike = true));
  const out = indexLike ? canonicalize(value) : JSON.stringify(ordered);
  if (out === undefined) throw new Error('jcs: value has no JSON form');
  return out;
}

export const canonicalBytes = (value: unknown) => utf8(canonicalJson(value));

const INDEX_LIKE = /^\d+$/;

function orderKeys(value: unknown, onIndexLike: () => void): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('jcs: non-finite numbers are not JSON');
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown> & { toJSON?: unknown };
  if (typeof object.toJSON === 'function') return orderKeys((object.toJSON as () => unknown)(), onIndexLike);
  if (Array.isArray(object))
    return object.map((v: unknown) => {
      if (v === undefined) throw new Error('jcs: undefined is not JSON');
      return orderKeys(v, onIndexLike);
    });
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object).sort()) {
    if (INDEX_LIKE.test(key)) onIndexLike();
    const v = object[key];
    if (v !== undefined) out[key] = orderKeys(v, onIndexLike);
  }
  return out;
}
