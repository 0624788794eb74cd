import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { storeContract } from '../contract.js';
import { SqliteStore } from './sqlite-store.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amtp-store-'));
  dirs.push(dir);
  const store = new SqliteStore({ path: join(dir, 'amtp.sqlite') });
  await store.migrate();
  return store;
});
