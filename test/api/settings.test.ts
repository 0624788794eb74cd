/** Operator settings whose documented meaning is easy to get wrong (.env.example says what they do). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { register, startServer } from '../helpers/server.js';

test('AMTP_EVENT_RETENTION_DAYS=0 keeps events forever; the default window prunes them', async () => {
  for (const [days, kept] of [
    ['0', true],
    ['7', false],
  ] as const) {
    const t = await startServer({ AMTP_EVENT_RETENTION_DAYS: days });
    try {
      const a = await register(t.url);
      const old = '2001-01-01T00:00:00.000Z';
      await t.server.core.store.apply([
        {
          op: 'appendEvent',
          event: { id: `evt_old_${days}_${process.pid}`, agent_id: a.id, type: 'message.read', data: {}, created_at: old },
        },
      ]);
      // (The sweep the server runs at start may be the one that prunes it: only the outcome is checked.)
      await t.server.core.maintain();
      assert.equal(
        (await t.server.core.store.events(a.id, { afterSeq: 0, limit: 10 })).some((e) => e.created_at === old),
        kept,
      );
    } finally {
      await t.close();
    }
  }
});

test('AMTP_MAX_WAIT_SECONDS agrees with the protocol: 0–60, and .well-known reports it', async () => {
  assert.throws(() => loadConfig({ AMTP_MAX_WAIT_SECONDS: '61' }), /AMTP_MAX_WAIT_SECONDS/);
  const t = await startServer({ AMTP_MAX_WAIT_SECONDS: '60' });
  try {
    const known = await fetch(`${t.url}/.well-known/amtp`).then((r) => r.json());
    assert.equal(known.limits.max_wait_seconds, 60);
  } finally {
    await t.close();
  }
});

test('AMTP_PG_POOL_SIZE sizes the PostgreSQL pool of each instance', async (ctx) => {
  assert.equal(loadConfig({}).pgPoolSize, 16);
  assert.throws(() => loadConfig({ AMTP_PG_POOL_SIZE: '0' }), /AMTP_PG_POOL_SIZE/);
  const t = await startServer({ AMTP_PG_POOL_SIZE: '3' });
  try {
    if (!(t.server.core.store instanceof PostgresStore)) return ctx.skip('PostgreSQL only (runs in the PostgreSQL pass)');
    assert.equal(t.server.core.store.pool.options.max, 3);
  } finally {
    await t.close();
  }
});
