/**
 * Faults: a full disk gives clear 503s with Retry-After, loses nothing acknowledged and recovers
 * without a restart; PostgreSQL connections killed under the server are replaced on their own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { backend, connect, register, startServer } from '../helpers/server.js';

test('disk full (SQLite page limit): 503 storage_unavailable with Retry-After, then recovery without restart', { skip: backend !== 'sqlite' && 'SQLite only' }, async () => {
  const t = await startServer();
  try {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    const ok = await a.api.post('/api/messages', { recipient_id: b.id, body: 'before' });
    assert.equal(ok.status, 202);
    const db = (t.server.core.store as SqliteStore).db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`); // no room for one more page: like a full disk
    const refused: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await a.api.post('/api/messages', { recipient_id: b.id, body: 'x'.repeat(8000), client_id: `full-${i}` });
      if (res.status === 503) {
        assert.equal(res.body.error.code, 'storage_unavailable');
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
        refused.push(i);
      } else assert.equal(res.status, 202);
    }
    assert.ok(refused.length > 0, 'the full disk was noticed');
    assert.equal((await b.api.get('/healthz')).status, 200, 'reads still work');
    db.pragma('max_page_count = 1073741823');
    for (const i of refused) {
      const retry = await a.api.post('/api/messages', { recipient_id: b.id, body: 'x'.repeat(8000), client_id: `full-${i}` });
      assert.equal(retry.status, 202, 'recovered without a restart');
    }
    const inbox = await b.api.get('/api/inbox?limit=200');
    assert.equal(inbox.body.messages.length, 31, 'every acknowledged message, once');
    assert.equal((await b.api.get('/api/me/audit/verify')).body.valid, true, 'no corruption');
  } finally {
    await t.close();
  }
});

test('PostgreSQL: server connections killed under load are replaced on their own', { skip: backend !== 'postgres' && 'PostgreSQL only' }, async () => {
  const t = await startServer();
  try {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    const admin = new pg.Client({ connectionString: t.config.databaseUrl! });
    await admin.connect();
    let accepted = 0;
    let unavailable = 0;
    for (let round = 0; round < 5; round++) {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      for (let i = 0; i < 10; i++) {
        const res = await a.api.post('/api/messages', { recipient_id: b.id, body: `r${round}-${i}`, client_id: `pg-${round}-${i}` });
        if (res.status === 202) accepted++;
        else {
          assert.equal(res.status, 503);
          assert.equal(res.body.error.code, 'storage_unavailable');
          unavailable++;
          assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body: `r${round}-${i}`, client_id: `pg-${round}-${i}` })).status, 202);
          accepted++;
        }
      }
    }
    await admin.end();
    assert.equal(accepted, 50);
    const inbox = await b.api.get('/api/inbox?limit=200');
    assert.equal(inbox.body.messages.length, 50);
    console.log(`postgres connection kills: 50 accepted, ${unavailable} transient 503s, recovered on its own`);
  } finally {
    await t.close();
  }
});
