import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findBrokenLink } from '../../src/protocol/audit-chain.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { amtp } from '../helpers/cli.js';
import { connect, register, startServer } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'amtp-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('amtp backup copies a running SQLite server consistently, and never overwrites', async () => {
  const t = await startServer({}, { backend: 'sqlite' });
  try {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    const first = await a.api.post('/api/messages', { recipient_id: b.id, body: 'before the backup' });
    const copy = join(dir, 'copy.sqlite');

    // The server keeps accepting writes meanwhile.
    const [result] = await Promise.all([
      amtp(['backup', copy], { AMTP_DATA_DIR: t.dataDir }),
      ...Array.from({ length: 20 }, (_, i) => a.api.post('/api/messages', { recipient_id: b.id, body: `during ${i}` })),
    ]);
    assert.equal(result.code, 0, result.stderr);

    const store = new SqliteStore({ path: copy });
    try {
      assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal((await store.agentByName(a.name))?.id, a.id);
      const inbox = await store.inbox(b.id, { unreadOnly: false, order: 'asc', limit: 100 });
      assert.equal(inbox[0]?.id, first.body.id);
      assert.ok(inbox.length >= 1 && inbox.length <= 21);
      assert.equal(findBrokenLink(await store.auditAll(b.id)), null);
    } finally {
      await store.close();
    }

    const again = await amtp(['backup', copy], { AMTP_DATA_DIR: t.dataDir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  } finally {
    await t.close();
  }
});

test('amtp backup on PostgreSQL prints the pg_dump command and exits 2', async () => {
  const file = join(dir, 'pg.dump');
  const result = await amtp(['backup', file], { DATABASE_URL: 'postgres://amtp@127.0.0.1:1/amtp' });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /pg_dump --format=custom --file=\S+ "\$DATABASE_URL"/);
  assert.match(result.stderr, /pg_restore/);
  assert.equal(existsSync(file), false);
});
