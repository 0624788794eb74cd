/**
 * The server's own signing key (ed25519), generated at first start and stored with the data, so every
 * instance on one database signs with the same key. Today it signs the A2A AgentCards (JWS, A2A §8.4);
 * its public half is published as a JWK Set at /.well-known/jwks.json.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Store } from '../store/types.js';
import { commit, type CoreDeps } from './context.js';
import { nowIso } from './ids.js';

const KEY_ID = 'server-signing';

export interface ServerSigningKey {
  /** The RFC 7638 thumbprint of the public key: the JWS `kid`. */
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

export class ServerKey {
  private loading?: Promise<ServerSigningKey>;

  constructor(private readonly deps: Pick<CoreDeps, 'store' | 'notifier'>) {}

  /** The key, created on first use; concurrent first uses (on any instance) end with the same stored key. */
  get(): Promise<ServerSigningKey> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<ServerSigningKey> {
    const stored = (await this.deps.store.serverKey(KEY_ID)) ?? (await this.create(this.deps.store));
    const privateKey = createPrivateKey({ key: JSON.parse(stored.private_jwk) as JsonWebKey, format: 'jwk' });
    const { kty, crv, x } = createPublicKey(privateKey).export({ format: 'jwk' });
    const publicJwk: JWK = { kty, crv, x, alg: 'EdDSA', use: 'sig' };
    const kid = await calculateJwkThumbprint(publicJwk);
    return { kid, privateKey, publicJwk: { ...publicJwk, kid } };
  }

  private async create(store: Store) {
    const { privateKey } = generateKeyPairSync('ed25519');
    await commit(this.deps, [{ op: 'putServerKey', key: { id: KEY_ID, private_jwk: JSON.stringify(privateKey.export({ format: 'jwk' })), created_at: nowIso() } }]);
    // Another instance may have stored its key first: the stored one is the key.
    return (await store.serverKey(KEY_ID))!;
  }
}
