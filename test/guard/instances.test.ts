/**
 * Grant counts and budgets hold across server instances (SPEC §17.1, §17.2): two servers on one
 * PostgreSQL database take concurrent sends on the last messages of a grant and of a budget, and
 * exactly as many pass as were allowed. PostgreSQL only (a SQLite store has one process).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEntry } from '../../src/protocol/schemas.js';
import { freshDatabase, type TestDatabase } from '../helpers/postgres.js';
import { backend, client, connect, register, startServer, type TestServer } from '../helpers/server.js';

describe(
  'guard rails across two instances on one PostgreSQL database',
  { skip: backend !== 'postgres' && 'runs in the PostgreSQL pass' },
  () => {
    let database: TestDatabase;
    let A: TestServer;
    let B: TestServer;
    before(async () => {
      database = await freshDatabase();
      [A, B] = await Promise.all([startServer({ DATABASE_URL: database.url }), startServer({ DATABASE_URL: database.url })]);
    });
    after(async () => {
      await Promise.all([A?.close(), B?.close()]);
      await database?.drop();
    });

    /** `n` sends at once, alternating between the instances; the statuses, sorted. */
    async function burst(key: string, n: number, input: Record<string, unknown>): Promise<number[]> {
      const apis = [client(A.url, key), client(B.url, key)];
      const replies = await Promise.all(
        Array.from({ length: n }, (_, i) => apis[i % 2]!.post('/api/messages', { ...input, body: `m${i}` })),
      );
      return replies.map((r) => r.status).sort();
    }

    test('the last messages of a counted grant are spent once, whichever instance takes them', async () => {
      const [alice, bob] = [await register(A.url), await register(B.url)];
      await connect(alice, bob, ['message', 'scheduling']);
      assert.equal(
        (await bob.api.post('/api/authorizations', { agent_id: alice.id, limits: { scheduling: { max_messages: 5 } } })).status,
        200,
      );
      const statuses = await burst(alice.key, 12, { recipient_id: bob.id, scope: 'scheduling' });
      assert.deepEqual(statuses, [...Array(5).fill(202), ...Array(7).fill(403)]);
      const audit = (await bob.api.get<{ entries: AuditEntry[] }>('/api/me/audit?limit=200')).body.entries;
      assert.equal(audit.filter((e) => e.action === 'grant.lapsed').length, 1, 'the lapse is audited once');
    });

    test('a budget admits exactly its limit under concurrent sends on both instances', async () => {
      const [alice, bob] = [await register(A.url), await register(B.url)];
      await connect(alice, bob);
      await bob.api.put(`/api/peers/${alice.id}/budget`, { per_hour: 5 });
      const statuses = await burst(alice.key, 12, { recipient_id: bob.id });
      assert.deepEqual(statuses, [...Array(5).fill(202), ...Array(7).fill(429)]);
    });
  },
);
