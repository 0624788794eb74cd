/**
 * The server's signing key (ed25519) as the A2A AgentCards need it: a KeyObject for JWS and its public
 * half as a JWK, whose RFC 7638 thumbprint is the JWS `kid`. The key itself is the one server key —
 * generated at first start and stored with the data (SPEC §19.2), which federation signs with too.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { toBase64Url } from '../crypto/encoding.js';

export interface ServerSigningKey {
  /** The RFC 7638 thumbprint of the public key: the JWS `kid`. */
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/** The raw key pair as stored: the 32-byte secret and the base64url public key. */
type RawServerKey = () => Promise<{ secret: Uint8Array; public_key: string }>;

export class ServerKey {
  private loading?: Promise<ServerSigningKey>;

  constructor(private readonly raw: RawServerKey) {}

  get(): Promise<ServerSigningKey> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<ServerSigningKey> {
    const { secret, public_key } = await this.raw();
    const publicJwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: public_key, alg: 'EdDSA', use: 'sig' };
    const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: public_key, d: toBase64Url(secret) }, format: 'jwk' });
    const kid = await calculateJwkThumbprint(publicJwk);
    return { kid, privateKey, publicJwk: { ...publicJwk, kid } };
  }
}
