/** Upgrade policy (docs/UPGRADING.md): an older build refuses to start on a schema a newer build migrated. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer } from '../../src/http/server.js';
import { register, startServer } from '../helpers/server.js';

test('a build refuses a database with a schema version it does not know, and changes nothing', async () => {
  const t = await startServer();
  try {
    const a = await register(t.url);
    const [{ n: before }] = (await t.sql('SELECT COUNT(*) AS n FROM schema_migrations')) as [{ n: number }];
    await t.sql(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
      9999,
      'from a newer release',
      new Date().toISOString(),
    );
    // A second instance of this build starting on the database (as in a rolling downgrade) refuses.
    await assert.rejects(createServer(t.config), /schema version 9999, newer than this build knows \(\d+\).*downgrades are not supported/);
    assert.equal(Number((await t.sql('SELECT COUNT(*) AS n FROM schema_migrations'))[0]!.n), Number(before) + 1, 'nothing migrated');
    // With the newer release's marker gone (as after restoring the pre-upgrade backup), it starts.
    await t.sql('DELETE FROM schema_migrations WHERE version = ?', 9999);
    const again = await createServer(t.config);
    await again.close();
    assert.equal((await a.api.get('/api/me')).status, 200);
  } finally {
    await t.close();
  }
});
