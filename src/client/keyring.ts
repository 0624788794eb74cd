/**
 * The local keyring (Node only): one JSON file per profile under the user's config directory, mode
 * 0600 in a 0700 directory. It holds the API key, the delivery secret, the private signing and
 * encryption keys, and the pinned keys of peers. Nothing in it is ever sent anywhere but the API key
 * (as a Bearer header) to its own server.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Identity, PinnedKeys, PinStore } from './secure.js';

export interface KeyringData extends Identity {
  server: string;
  name: string;
  api_key: string;
  peers: Record<string, PinnedKeys>;
  /** A key file holds the private keys themselves. */
  signing?: { publicKey: string; secretKey: string };
  encryption?: { publicKey: string; secretKey: string };
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.AMTP_CONFIG_DIR ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'amtp');
}

export class Keyring implements PinStore {
  private constructor(
    readonly path: string,
    public data: KeyringData,
  ) {}

  static path(profile = 'default', env: NodeJS.ProcessEnv = process.env): string {
    return join(configDir(env), `${profile}.json`);
  }

  static exists(profile = 'default', env?: NodeJS.ProcessEnv): boolean {
    return existsSync(Keyring.path(profile, env));
  }

  static load(profile = 'default', env?: NodeJS.ProcessEnv): Keyring {
    const path = Keyring.path(profile, env);
    if (!existsSync(path)) throw new Error(`No amtp profile "${profile}" at ${path}. Run "amtp register <name> --server <url>" first.`);
    return new Keyring(path, JSON.parse(readFileSync(path, 'utf8')) as KeyringData);
  }

  static create(data: KeyringData, profile = 'default', env?: NodeJS.ProcessEnv): Keyring {
    const ring = new Keyring(Keyring.path(profile, env), data);
    ring.save();
    return ring;
  }

  get(agentId: string): PinnedKeys | undefined {
    return this.data.peers[agentId];
  }

  set(agentId: string, keys: PinnedKeys): void {
    this.data.peers[agentId] = keys;
    this.save();
  }

  /** Atomic write, owner-only permissions. */
  save(): void {
    const dir = this.path.slice(0, this.path.lastIndexOf('/'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }
}
