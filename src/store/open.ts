import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

/** The configured backend, migrated and ready. */
export async function openStore(config: Config): Promise<Store> {
  if (config.databaseUrl) {
    throw new Error('DATABASE_URL is set, but this build has no PostgreSQL backend yet. Unset it to use embedded SQLite.');
  }
  mkdirSync(config.dataDir, { recursive: true });
  const store = new SqliteStore({ path: join(config.dataDir, 'amtp.sqlite'), durability: config.durability });
  await store.migrate();
  return store;
}
