/**
 * `amtp doctor` finds stored rows that break the input rules (written before the rules existed, or
 * by hand) and reports each one; a clean store passes. On SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { amtp } from '../helpers/cli.js';
import { postgresSkip } from '../helpers/postgres.js';
import { connect, register, startServer, type Backend } from '../helpers/server.js';

const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  const skip = backend === 'postgres' ? postgresSkip('amtp doctor on PostgreSQL') : undefined;
  test(`amtp doctor on ${backend}: a clean store passes; rows that could not be served are each reported`, { skip }, async () => {
    const t = await startServer({}, { backend });
    try {
      const env: Record<string, string> = t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : { AMTP_DATA_DIR: t.dataDir };
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      const sent = await a.api.post('/api/messages', { recipient_id: b.id, body: 'fine', payload: { ok: [1, 2, 3] } });
      assert.equal(sent.status, 202);

      const clean = await amtp(['doctor'], env);
      assert.equal(clean.code, 0, clean.stderr);
      assert.match(clean.stderr, /Every stored row can be served/);

      // As an old build could have stored them: a payload nested 200 deep, and (SQLite can hold it) a NUL.
      await t.sql('UPDATE messages SET payload = ? WHERE id = ?', deep(200), sent.body.id);
      if (backend === 'sqlite') await t.sql('UPDATE agents SET display_name = ? WHERE id = ?', 'bad \u0000 name', a.id);
      const found = await amtp(['doctor'], env);
      assert.equal(found.code, 1);
      assert.match(found.stdout, /^messages \{"seq":\d+\}: payload\.a\.a.*… nests deeper than 128 levels/m);
      if (backend === 'sqlite') assert.match(found.stdout, new RegExp(`^agents \\{"id":"${a.id}"\\}: display_name contains U\\+0000`, 'm'));
      assert.match(found.stderr, new RegExp(`${backend === 'sqlite' ? 2 : 1} stored row\\(s\\) break the input rules`));
    } finally {
      await t.close();
    }
  });
}
