/**
 * Migration 6 turns the webhook delivery queue into the general outbox on both backends: every
 * delivery of a database at version 5 survives, pending ones stay queued in order and are claimed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { freshDatabase, postgresSkip, type TestDatabase } from '../../test/helpers/postgres.js';
import type { Migration } from './migration.js';
import { postgresMigrations } from './postgres/migrations.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { sqliteMigrations } from './sqlite/migrations.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

/** A version-5 database holding a webhook, three events and their deliveries: delivered, pending, pending. */
const VERSION_5_ROWS = `
  INSERT INTO agents (id, name, api_key_hash, created_at) VALUES ('agt_a', 'a', 'h', '${at(0)}');
  INSERT INTO webhooks (agent_id, url, secret, events, enabled, created_at, updated_at)
    VALUES ('agt_a', 'https://hooks.example/a', 'whsec_x', '["message.received"]', TRUE, '${at(0)}', '${at(0)}');
  INSERT INTO events (agent_id, seq, id, type, data, created_at) VALUES
    ('agt_a', 1, 'evt_1', 'message.received', '{}', '${at(1)}'),
    ('agt_a', 2, 'evt_2', 'message.received', '{}', '${at(2)}'),
    ('agt_a', 3, 'evt_3', 'message.received', '{}', '${at(3)}');
  INSERT INTO webhook_deliveries (id, agent_id, event_seq, status, attempts, next_attempt_at, last_status, created_at, updated_at) VALUES
    ('evt_1', 'agt_a', 1, 'delivered', 1, '${at(1)}', 200, '${at(1)}', '${at(4)}'),
    ('evt_2', 'agt_a', 2, 'pending', 2, '${at(9)}', 500, '${at(2)}', '${at(5)}'),
    ('evt_3', 'agt_a', 3, 'pending', 0, '${at(3)}', NULL, '${at(3)}', '${at(3)}');
`;

async function keepsDeliveries(store: Store): Promise<void> {
  await store.migrate();
  const deliveries = await store.deliveries('agt_a', { limit: 10 });
  assert.deepEqual(
    deliveries.map((d) => [d.id, d.kind, d.event_seq, d.status, d.attempts, d.next_attempt_at, d.last_status]),
    [
      ['evt_3', 'webhook', 3, 'pending', 0, at(3), null],
      ['evt_2', 'webhook', 2, 'pending', 2, at(9), 500],
      ['evt_1', 'webhook', 1, 'delivered', 1, at(1), 200],
    ],
  );
  assert.equal(await store.pendingDeliveries('agt_a'), 2);
  // Since migration 7 a failed delivery (evt_2, attempts 2) waits beside its queue: evt_3 is the head.
  const [first] = await store.apply([{ op: 'claimDeliveries', now: at(8), lease_until: at(60), limit: 10 }]);
  assert.deepEqual(
    first.map((d) => d.id),
    ['evt_3'],
    'the head: the oldest delivery not yet attempted',
  );
  const [claimed] = await store.apply([{ op: 'claimDeliveries', now: at(10), lease_until: at(60), limit: 10 }]);
  assert.deepEqual(
    claimed.map((d) => d.id),
    ['evt_2'],
    'the retry, once due',
  );
  await store.close();
}

const applyUpTo5 = async (migrations: Migration[], exec: (sql: string) => unknown) => {
  await exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of migrations.filter((m) => m.version <= 5)) {
    await exec(m.sql);
    await exec(`INSERT INTO schema_migrations VALUES (${m.version}, 'v${m.version}', '${at(0)}')`);
  }
  await exec(VERSION_5_ROWS);
};

const dirs: string[] = [];
const databases: TestDatabase[] = [];
after(async () => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  await Promise.all(databases.map((d) => d.drop()));
});

test('outbox migration keeps every webhook delivery: sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amtp-outbox-'));
  dirs.push(dir);
  const path = join(dir, 'amtp.sqlite');
  const db = new Database(path);
  await applyUpTo5(sqliteMigrations, (sql) => db.exec(sql));
  db.close();
  await keepsDeliveries(new SqliteStore({ path }));
});

test('outbox migration keeps every webhook delivery: postgres', { skip: postgresSkip('outbox migration on PostgreSQL') }, async () => {
  const database = await freshDatabase();
  databases.push(database);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await applyUpTo5(postgresMigrations, (sql) => client.query(sql));
  await client.end();
  await keepsDeliveries(new PostgresStore({ url: database.url }));
});
