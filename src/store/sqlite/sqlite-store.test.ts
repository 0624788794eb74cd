import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
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

test('durability modes: full commits with synchronous=FULL (fsync before the answer), relaxed with NORMAL', async () => {
  for (const [durability, level] of [
    ['full', 2],
    ['relaxed', 1],
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'amtp-store-'));
    dirs.push(dir);
    const store = new SqliteStore({ path: join(dir, 'amtp.sqlite'), durability });
    await store.migrate();
    await store.apply([{ op: 'createInvite', token_hash: 'h', created_at: new Date().toISOString(), expires_at: null }]);
    assert.equal(await store.pragma('synchronous'), level, `${durability}: the writer's connection`);
    await store.close();
    const reopened = new SqliteStore({ path: join(dir, 'amtp.sqlite'), durability });
    assert.equal(
      (reopened.db.prepare('SELECT COUNT(*) AS n FROM invites').get() as { n: number }).n,
      1,
      `${durability}: acknowledged write kept`,
    );
    await reopened.close();
  }
});
