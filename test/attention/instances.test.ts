/**
 * Deadlines fire once, and held mail is released once and in order, with three server instances
 * working the same outbox (PostgreSQL; the clock shared and driven by the test).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../helpers/clock.js';
import { freshDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';
import { backend, connect, register, startServer, type TestServer } from '../helpers/server.js';
import { eventsOf, wakeWorker } from './helpers.js';

const skip =
  backend === 'postgres'
    ? postgresSkip('multi-instance attention suite')
    : 'several instances need PostgreSQL (runs in the PostgreSQL pass)';

describe('attention on three instances of one database', { skip }, () => {
  const clock = new ManualClock('2026-06-01T12:00:00Z');
  let database: TestDatabase;
  let servers: TestServer[] = [];
  before(async () => {
    database = await freshDatabase();
    servers = await Promise.all([1, 2, 3].map(() => startServer({ DATABASE_URL: database.url }, { clock })));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await database?.drop();
  });

  /** Wakes every instance's worker until `check` holds, within a bounded wait. */
  const untilAll = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!(await check())) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}: ${JSON.stringify(await servers[0]!.sql('SELECT kind, status, COUNT(*) AS n, MIN(not_before) AS nb, MAX(lease_until) AS lu, MAX(last_error) AS e FROM outbox GROUP BY kind, status'))}`,
        );
      servers.forEach(wakeWorker);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  test('twenty deadlines due at once fire once each; held mail is released once, in order', async () => {
    const [t] = servers;
    const [a, b] = [await register(t!.url), await register(t!.url)];
    await connect(a, b);
    const replyBy = new Date(clock.now() + 60_000).toISOString();
    const asked = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.api.post('/api/messages', { recipient_id: b.id, body: `q${i}`, reply_by: replyBy })),
    );
    assert.ok(asked.every((r) => r.status === 202));

    await b.api.put('/api/me/quiet-hours', { time_zone: 'UTC', start: '11:00', end: '13:00' });
    const held: string[] = [];
    for (let i = 0; i < 10; i++) held.push((await a.api.post('/api/messages', { recipient_id: b.id, body: `held ${i}` })).body.id);

    clock.advance(3_600_000 + 60_000); // 13:01: every deadline is due, and the window has ended
    await untilAll(
      async () => (await eventsOf(t!, a.id, 'deadline.missed')).length >= 20 && (await eventsOf(t!, b.id, 'message.received')).length >= 30,
      'every deadline and release',
    );
    servers.forEach(wakeWorker);
    const missed = await eventsOf(t!, a.id, 'deadline.missed');
    assert.equal(missed.length, 20, 'once each');
    assert.deepEqual(new Set(missed.map((e) => e.message_id)).size, 20);
    const received = (await eventsOf(t!, b.id, 'message.received')).map((e) => e.message_id as string);
    assert.equal(received.length, 30, 'every message announced once');
    assert.deepEqual(
      received.filter((id) => held.includes(id)),
      held,
      'released in the order they arrived',
    );
  });
});
