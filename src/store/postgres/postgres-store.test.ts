import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { freshDatabase, postgresSkip, type TestDatabase } from '../../../test/helpers/postgres.js';
import { findBrokenLink } from '../../protocol/audit-chain.js';
import { agent, storeContract } from '../contract.js';
import { StoreError, type Wakeup } from '../types.js';
import { PostgresStore } from './postgres-store.js';
import { postgresMigrations } from './migrations.js';

const skip = postgresSkip('PostgreSQL store suites');
const databases: TestDatabase[] = [];
after(() => Promise.all(databases.map((d) => d.drop())));

const database = async () => {
  const db = await freshDatabase();
  databases.push(db);
  return db;
};
const open = async (url: string) => {
  const store = new PostgresStore({ url });
  await store.migrate();
  return store;
};

if (skip) {
  test('store contract: postgres', { skip }, () => undefined);
} else {
  storeContract('postgres', async () => open((await database()).url));

  describe('postgres store', () => {
    test('instances starting together migrate once (advisory lock)', async () => {
      const { url } = await database();
      const stores = Array.from({ length: 5 }, () => new PostgresStore({ url }));
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        const { rows } = await stores[0]!.pool.query('SELECT version FROM schema_migrations ORDER BY version');
        assert.deepEqual(
          rows.map((r) => r.version),
          postgresMigrations.map((m) => m.version),
        );
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    test('two instances appending to one audit chain never fork it', async () => {
      const { url } = await database();
      const [s1, s2] = [await open(url), await open(url)];
      try {
        const a = agent('chained');
        await s1.apply([{ op: 'createAgent', agent: a }]);
        const entry = (i: number) => ({
          op: 'appendAudit' as const,
          entry: { agent_id: a.id, at: new Date(i).toISOString(), action: 'grant.created' as const, target_id: null, details: { i } },
        });
        await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? s1 : s2).apply([entry(i)])));
        const chain = await s2.auditAll(a.id);
        assert.equal(chain.length, 60);
        assert.equal(findBrokenLink(chain), null);
      } finally {
        await Promise.all([s1.close(), s2.close()]);
      }
    });

    test('an unreachable server is StoreError unavailable', async () => {
      const store = new PostgresStore({ url: 'postgres://postgres@127.0.0.1:1/none' });
      try {
        await assert.rejects(store.migrate(), (e) => e instanceof StoreError && e.kind === 'unavailable');
        await assert.rejects(store.agentById('a2a_x'), (e) => e instanceof StoreError && e.kind === 'unavailable');
        await assert.rejects(
          store.apply([{ op: 'createAgent', agent: agent('nowhere') }]),
          (e) => e instanceof StoreError && e.kind === 'unavailable',
        );
      } finally {
        await store.close();
      }
    });

    test('broadcast: wake-ups reach the other instances, not the sender, and survive a dropped LISTEN connection', async () => {
      const { url } = await database();
      const [s1, s2] = [await open(url), await open(url)];
      const got1: (Wakeup | null)[] = [];
      const got2: (Wakeup | null)[] = [];
      s1.broadcast.listen((w) => got1.push(w));
      s2.broadcast.listen((w) => got2.push(w));
      try {
        await Promise.all([s1.broadcast.ready(), s2.broadcast.ready()]);
        const until = async (check: () => boolean) => {
          for (let i = 0; i < 250 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
          assert.ok(check());
        };
        s1.broadcast.send({ type: 'message.received', agent_id: 'a2a_1', data: { n: 1 } });
        await until(() => got2.length === 1);
        assert.deepEqual(got2, [{ type: 'message.received', agent_id: 'a2a_1', data: { n: 1 } }]);
        assert.deepEqual(got1, [], 'an instance does not hear itself');

        // The server drops s2's LISTEN connection: s2 reconnects, tells its waiters to re-read, and hears again.
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN amtp_events' AND datname = current_database()",
        );
        await admin.end();
        await until(() => got2.length === 2);
        assert.equal(got2[1], null);
        await s2.broadcast.ready();
        s1.broadcast.send({ type: 'message.read', agent_id: 'a2a_2' });
        await until(() => got2.length === 3);
        assert.deepEqual(got2[2], { type: 'message.read', agent_id: 'a2a_2' });
      } finally {
        await Promise.all([s1.close(), s2.close()]);
      }
    });
  });
}
