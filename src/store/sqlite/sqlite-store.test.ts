import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeContract } from '../contract.js';
import { SqliteStore } from './sqlite-store.js';

storeContract('sqlite', async () => {
  const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'amtp-store-')), 'amtp.sqlite') });
  await store.migrate();
  return store;
});
