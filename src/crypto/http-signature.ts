/**
 * RFC 9421 HTTP Message Signatures (algorithm `ed25519`) and RFC 9530 `Content-Digest` (sha-256),
 * as server-to-server federation uses them (SPEC §19). The structured fields (Signature-Input,
 * Signature, Content-Digest) are parsed and serialized by `structured-headers` (RFC 8941/9651);
 * here only the signature base (RFC 9421 §2.5) is built, and ed25519 comes from @noble.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { parseDictionary, serializeDictionary, serializeInnerList, isInnerList, type Parameters } from 'structured-headers';
import { toBase64 } from './encoding.js';

/** The parts of an HTTP request a signature can cover; header names in lower case. */
export interface SignableRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** Signature parameters (RFC 9421 §2.3), in the order they are serialized. */
export interface SignatureParams {
  created?: number;
  expires?: number;
  nonce?: string;
  alg?: string;
  keyid?: string;
  tag?: string;
}

export class HttpSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpSignatureError';
  }
}

/** The value of one covered component (RFC 9421 §2.1, §2.2): derived `@…` components and header fields. */
function componentValue(name: string, req: SignableRequest): string {
  const url = new URL(req.url);
  switch (name) {
    case '@method':
      return req.method.toUpperCase();
    case '@target-uri':
      return req.url;
    case '@authority':
      return url.host.toLowerCase();
    case '@scheme':
      return url.protocol.slice(0, -1).toLowerCase();
    case '@path':
      return url.pathname;
    case '@query':
      return url.search || '?';
  }
  if (name.startsWith('@')) throw new HttpSignatureError(`unsupported derived component ${name}`);
  const value = req.headers[name];
  if (value === undefined) throw new HttpSignatureError(`the signature covers "${name}", which the request does not carry`);
  return value.trim();
}

function paramsMap(p: SignatureParams): Parameters {
  const params: Parameters = new Map();
  for (const key of ['created', 'expires', 'nonce', 'alg', 'keyid', 'tag'] as const) if (p[key] !== undefined) params.set(key, p[key]);
  return params;
}

/** The serialized `@signature-params` value: the inner list of covered components with its parameters. */
const signatureParamsValue = (components: readonly string[], p: SignatureParams) =>
  serializeInnerList([components.map((c) => [c, new Map()] as [string, Parameters]), paramsMap(p)]);

/** The signature base (RFC 9421 §2.5): one line per covered component, then `@signature-params`. */
export function signatureBase(req: SignableRequest, components: readonly string[], params: SignatureParams): string {
  const lines = components.map((c) => `"${c}": ${componentValue(c, req)}`);
  lines.push(`"@signature-params": ${signatureParamsValue(components, params)}`);
  return lines.join('\n');
}

/** Signs `req` and returns the `Signature-Input` and `Signature` header values under `label`. */
export function signRequest(
  req: SignableRequest,
  components: readonly string[],
  params: SignatureParams,
  secretKey: Uint8Array,
  label = 'sig1',
) {
  const signature = ed25519.sign(new TextEncoder().encode(signatureBase(req, components, params)), secretKey);
  return {
    'signature-input': `${label}=${signatureParamsValue(components, params)}`,
    signature: serializeDictionary(new Map([[label, [signature, new Map()]]])),
  };
}

/** What a received signature claims: its covered components and parameters (not yet verified). */
export interface ParsedSignature {
  label: string;
  components: string[];
  params: SignatureParams;
  signature: Uint8Array;
}

/** Reads the signature `label` (or the only one) from the `Signature-Input` and `Signature` fields. */
export function parseSignature(headers: Record<string, string>, label?: string): ParsedSignature {
  const input = headers['signature-input'];
  const sig = headers['signature'];
  if (!input || !sig) throw new HttpSignatureError('the request carries no Signature-Input and Signature');
  let inputs, signatures;
  try {
    inputs = parseDictionary(input);
    signatures = parseDictionary(sig);
  } catch (error) {
    throw new HttpSignatureError(`malformed signature field: ${(error as Error).message}`);
  }
  const name = label ?? (inputs.size === 1 ? [...inputs.keys()][0]! : undefined);
  if (!name) throw new HttpSignatureError('several signatures and no label to choose one');
  const entry = inputs.get(name);
  const value = signatures.get(name);
  if (!entry || !isInnerList(entry) || !value || !(value[0] instanceof ArrayBuffer))
    throw new HttpSignatureError(`no signature labelled ${name}`);
  const [items, parameters] = entry;
  const components = items.map(([item]) => {
    if (typeof item !== 'string') throw new HttpSignatureError('covered components must be strings');
    return item;
  });
  const params: SignatureParams = {};
  for (const [key, v] of parameters) {
    if ((key === 'created' || key === 'expires') && typeof v === 'number') params[key] = v;
    else if ((key === 'nonce' || key === 'alg' || key === 'keyid' || key === 'tag') && typeof v === 'string') params[key] = v;
  }
  return { label: name, components, params, signature: new Uint8Array(value[0]) };
}

/** Never throws: a signature that cannot be checked does not verify. */
export function verifySignature(req: SignableRequest, parsed: ParsedSignature, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(parsed.signature, new TextEncoder().encode(signatureBase(req, parsed.components, parsed.params)), publicKey);
  } catch {
    return false;
  }
}

/** RFC 9530 `Content-Digest` of a body, sha-256. */
export const contentDigest = (body: string | Uint8Array) =>
  `sha-256=:${toBase64(sha256(typeof body === 'string' ? new TextEncoder().encode(body) : body))}:`;

/** True when `header` carries a sha-256 digest equal to the body's (other algorithms are ignored). */
export function digestMatches(header: string | undefined, body: string | Uint8Array): boolean {
  if (!header) return false;
  try {
    const entry = parseDictionary(header).get('sha-256');
    return !!entry && entry[0] instanceof ArrayBuffer && `sha-256=:${toBase64(new Uint8Array(entry[0]))}:` === contentDigest(body);
  } catch {
    return false;
  }
}
