import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

/** The configured backend, migrated and ready: PostgreSQL when DATABASE_URL is a postgres:// URL, else embedded SQLite. */
export async function openStore(config: Config): Promise<Store> {
  if (config.databaseUrl) {
    if (!/^postgres(ql)?:\/\//i.test(config.databaseUrl)) {
      throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL. Unset it to use embedded SQLite in AMTP_DATA_DIR.');
    }
    const store = new PostgresStore({ url: config.databaseUrl, maxConnections: config.pgPoolSize });
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const store = new SqliteStore({ path: join(config.dataDir, 'amtp.sqlite'), durability: config.durability, memory: config.sqlite });
  await store.migrate();
  return store;
}
