/**
 * Every query on a hot path — send, inbox, mark read or delivered, the outbox claim, stream replay,
 * retention pruning — has an index-bounded plan, on a seeded database large enough that a full scan
 * would matter, with no planner statistics and with fresh ones (SQLite: `EXPLAIN QUERY PLAN`;
 * PostgreSQL: `EXPLAIN`). The SQL is taken from the store itself (src/store/reads.ts, writes.ts,
 * outbox.ts) by recording what it runs, never copied.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { numberPlaceholders, postgresDialect, sqliteDialect, type Dialect } from '../../src/store/dialect.js';
import { SqlReads } from '../../src/store/reads.js';
import { writeOp, type Query } from '../../src/store/writes.js';
import type { Row } from '../../src/store/rows.js';
import type { ResultsOf, WriteOp } from '../../src/store/types.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { backend } from '../helpers/server.js';
import { freshDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';

/** Tables that grow with traffic: a full scan of one of these on a hot path is a bug. */
const LARGE = ['messages', 'events', 'outbox', 'audit_log', 'agents', 'sig_nonces'];
const AGENTS = 2_000;
/** Agents with a webhook (a minority, as in practice: each has a long delivery history). */
const WEBHOOKS = 100;
const ROWS = 100_000;

/** A store whose reads record their SQL instead of running it. */
class RecordingReads extends SqlReads {
  readonly dialect = 'sqlite' as const;
  queries: Query[] = [];
  migrate = () => Promise.resolve();
  close = () => Promise.resolve();
  optimize = () => Promise.resolve();
  apply<const T extends readonly WriteOp[]>(): Promise<ResultsOf<T>> {
    throw new Error('not here');
  }
  protected rows(sql: string, params: unknown[]): Promise<Row[]> {
    this.queries.push({ sql, params, rows: true });
    return Promise.resolve([{ n: 0 }]);
  }
}

async function readQueries(d: Dialect, read: (r: SqlReads) => Promise<unknown>): Promise<Query[]> {
  const r = new RecordingReads(d);
  await read(r).catch(() => undefined);
  return r.queries;
}

/** The queries a write operation runs, each answered with one plausible row (the plan does not depend on answers). */
function writeQueries(d: Dialect, op: WriteOp): Query[] {
  const out: Query[] = [];
  const steps = writeOp(d, op);
  try {
    for (let step = steps.next(); !step.done;) {
      out.push(step.value);
      step = steps.next(step.value.rows ? [{ id: A(2), cut: 100, seq: 100 }] : 0);
    }
  } catch {
    // insertMessage answered with no row reports a duplicate: its query is recorded all the same.
  }
  return out;
}

const A = (i: number) => `a2a_agent${i}`;
const NOW = '2026-06-01T00:00:00.000Z';
/** A retention cutoff as in steady state: each hourly sweep removes a sliver of the oldest rows. */
const CUTOFF = '2025-12-31T23:00:00.000Z';
const ids = Array.from({ length: 20 }, (_, i) => `msg_${i * 997}`);

/** Every hot query, by the path it serves. */
function hotQueries(d: Dialect): Promise<[string, Query[]][]> {
  const r = (read: (s: SqlReads) => Promise<unknown>) => readQueries(d, read);
  const w = (op: WriteOp) => Promise.resolve(writeQueries(d, op));
  const message = {
    id: 'msg_new',
    thread_id: 'thr_1',
    sender_id: A(1),
    recipient_id: A(2),
    subject: null,
    body: 'hi',
    scope: 'chat',
    intent: null,
    payload: null,
    reply_to_id: null,
    client_id: 'c1',
    sealed: null,
    sealed_for_sender: null,
    ed25519_signature: null,
    sig_nonce: null,
    signed_at: null,
    created_at: NOW,
    delivered_at: null,
    read_at: null,
  };
  const event = { agent_id: A(2), id: 'evt_new', type: 'message.received' as const, data: {}, created_at: NOW };
  const entries: [string, Promise<Query[]>][] = [
    ['auth: agent by key hash', r((s) => s.agentByKeyHash('h'))],
    ['send: agent by name', r((s) => s.agentByName('agent2'))],
    ['send: grant', r((s) => s.grant(A(1), A(2)))],
    ['send: block', r((s) => s.isBlocked(A(1), A(2)))],
    ['send: consent of the pair', r((s) => s.pairConsent(A(1), A(2)))],
    ['send: idempotent resend', r((s) => s.messageByClientId(A(1), 'c1'))],
    ['send: insert message', w({ op: 'insertMessage', message })],
    ['send: append event + queue webhook', w({ op: 'appendEvent', event })],
    ['send: nonce', w({ op: 'useNonce', sender_id: A(1), nonce: 'n', expires_at: NOW })],
    ['inbox: newest', r((s) => s.inbox(A(2), { unreadOnly: false, order: 'desc', limit: 51 }))],
    ['inbox: unread, oldest first, after a cursor', r((s) => s.inbox(A(2), { unreadOnly: true, order: 'asc', cursorSeq: 100, limit: 51 }))],
    ['inbox: older page', r((s) => s.inbox(A(2), { unreadOnly: false, order: 'desc', cursorSeq: 100_000, limit: 51 }))],
    ['inbox: unread count', r((s) => s.unreadCount(A(2)))],
    ['mark delivered', w({ op: 'markDelivered', recipient_id: A(2), ids, at: NOW })],
    ['mark read: ids', w({ op: 'markRead', recipient_id: A(2), ids, at: NOW })],
    ['mark read: thread', w({ op: 'markRead', recipient_id: A(2), thread_id: 'thr_5', at: NOW })],
    ['message by id', r((s) => s.message('msg_5'))],
    ['claim: every queue head', w({ op: 'claimDeliveries', now: NOW, lease_until: NOW, limit: 8 })],
    ['claim: one queue head', w({ op: 'claimDeliveries', now: NOW, lease_until: NOW, limit: 1, agent_id: A(2) })],
    [
      'claim: record outcome',
      w({
        op: 'recordDelivery',
        id: 'del_1',
        status: 'delivered',
        attempts: 1,
        next_attempt_at: NOW,
        last_status: 200,
        last_error: null,
        at: NOW,
      }),
    ],
    ['claim: pending count', r((s) => s.pendingDeliveries(A(2)))],
    ['claim: dead letter, endpoint still works?', r((s) => s.webhookDeliveredAfter(A(2), 500))],
    ['stream replay', r((s) => s.events(A(2), { afterSeq: 10, limit: 100 }))],
    ['stream: last event', r((s) => s.lastEventSeq(A(2)))],
    ['retention: messages by age', w({ op: 'pruneMessages', olderThan: CUTOFF, keepPerMailbox: null })],
    ['retention: messages per mailbox', w({ op: 'pruneMessages', olderThan: null, keepPerMailbox: 1000 })],
    ['retention: events and finished deliveries', w({ op: 'pruneEvents', olderThan: CUTOFF })],
    ['retention: nonces', w({ op: 'pruneNonces', before: CUTOFF })],
  ];
  return Promise.all(entries.map(async ([name, q]) => [name, await q] as [string, Query[]]));
}

// ── seeding: bulk INSERT … SELECT, one statement per table ──

/** SQL producing rows i = 1..n, as a FROM clause, per dialect. */
const series = (d: Dialect, n: number) =>
  d.name === 'sqlite'
    ? `(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s) g`
    : `generate_series(1, ${n}) AS g(i)`;
const agentOf = (expr: string) => `'a2a_agent' || ((${expr}) % ${AGENTS})`;

function seedSql(d: Dialect): string[] {
  const t = d.name === 'sqlite' ? "'2026-01-01T00:00:00.000Z'" : "'2026-01-01T00:00:00.000Z'";
  const bool = d.name === 'sqlite' ? '1' : 'TRUE';
  // Spread delivery states: almost all delivered, a few pending (a backlog per queue), some dead.
  const status = `CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 97 = 0 THEN 'dead' ELSE 'delivered' END`;
  return [
    `INSERT INTO agents (id, name, api_key_hash, delivery_secret, created_at) SELECT 'a2a_agent' || (i - 1), 'agent' || (i - 1), 'hash' || i, '', ${t} FROM ${series(d, AGENTS)}`,
    `INSERT INTO webhooks (agent_id, url, secret, events, enabled, created_at, updated_at) SELECT 'a2a_agent' || (i - 1), 'https://example.org/hook', 's', '["message.received"]', ${bool}, ${t}, ${t} FROM ${series(d, WEBHOOKS)}`,
    `INSERT INTO messages (id, thread_id, sender_id, recipient_id, body, scope, client_id, created_at, delivered_at, read_at)
     SELECT 'msg_' || i, 'thr_' || (i % 5000), ${agentOf('i + 1')}, ${agentOf('i')}, 'hello', 'chat', 'c' || i, ${t},
       CASE WHEN i % 3 = 0 THEN NULL ELSE ${t} END, CASE WHEN i % 2 = 0 THEN NULL ELSE ${t} END FROM ${series(d, ROWS)}`,
    `INSERT INTO events (agent_id, seq, id, type, data, created_at) SELECT ${agentOf('i')}, i, 'evt_' || i, 'message.received', '{}', ${t} FROM ${series(d, ROWS)}`,
    `INSERT INTO outbox (id, kind, agent_id, queue, position, status, attempts, not_before, created_at, updated_at)
     SELECT 'evt_' || i, 'webhook', 'a2a_agent' || (i % ${WEBHOOKS}), 'a2a_agent' || (i % ${WEBHOOKS}), i, ${status}, 1, ${t}, ${t}, ${t} FROM ${series(d, ROWS)}`,
    `INSERT INTO audit_log (agent_id, seq, at, action, details, prev_hash, hash) SELECT ${agentOf('i')}, i, ${t}, 'grant.changed', '{}', 'p', 'h' FROM ${series(d, ROWS / 4)}`,
    `INSERT INTO sig_nonces (sender_id, nonce, expires_at) SELECT ${agentOf('i')}, 'n' || i, ${t} FROM ${series(d, ROWS / 4)}`,
  ];
}

// ── plans ──

/** Columns that name a whole mailbox, log or queue: an index range on one of these alone reads all of it. */
const OWNER = /^\(?\(?(recipient_id|sender_id|agent_id|queue|kind|status)\)?(::text)? ?= ?(\?|\$\d+(::text)?)\)?$/;

/**
 * A plan may not read all of a large table, nor a whole mailbox, log or queue (an index range on an
 * owner column alone) unless a LIMIT or MIN/MAX stops it after a few entries or the index is partial
 * (it holds only the live set — unread messages, pending deliveries — never the history).
 */
function unbounded(sql: string, scan: { table: string; index: string | null; cond: string | null }, partial: Set<string>): string | null {
  if (!LARGE.includes(scan.table)) return null;
  if (scan.cond === null) return `reads all of ${scan.table}`;
  const stops = /\bLIMIT\b|\b(MIN|MAX)\(/i.test(sql);
  if (OWNER.test(scan.cond.trim()) && !stops && !(scan.index && partial.has(scan.index)))
    return `reads a whole ${scan.cond} range of ${scan.table} (${scan.index})`;
  return null;
}

interface Db {
  dialect: Dialect;
  exec(sql: string): Promise<void>;
  rows(sql: string): Promise<unknown[]>;
  /** What the server runs to refresh statistics (SQLite: the store's own PRAGMA optimize; PostgreSQL: what autovacuum runs). */
  optimize(): Promise<void>;
  partialIndexes(): Promise<Set<string>>;
  /** The plan as text, and each table access in it. */
  plan(q: Query): Promise<{ text: string; scans: { table: string; index: string | null; cond: string | null }[] }>;
}

function sqliteDb(store: SqliteStore): Db {
  return {
    dialect: sqliteDialect,
    exec: (sql) => Promise.resolve(void store.db.exec(sql)),
    optimize: () => store.optimize(),
    rows: (sql) => Promise.resolve(store.db.prepare(sql).all()),
    partialIndexes: () =>
      Promise.resolve(
        new Set(store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'").pluck().all() as string[]),
      ),
    plan(q) {
      const rows = store.db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.params) as { detail: string }[];
      // "SCAN t [USING … INDEX i]" reads all of t; "SEARCH t USING … INDEX i (cond)" reads the range cond.
      const scans = rows.flatMap(({ detail }) => {
        const m = /^(SCAN|SEARCH) (\w+)(?: USING (?:COVERING |INTEGER PRIMARY KEY)?(?:INDEX (\w+))?)?(?: \((.*)\))?$/.exec(detail);
        if (!m) return [];
        return [{ table: tableOf(q.sql, m[2]!), index: m[3] ?? null, cond: m[1] === 'SCAN' ? null : (m[4] ?? '') }];
      });
      return Promise.resolve({ text: rows.map((r) => r.detail).join('\n'), scans });
    },
  };
}

/** The table an alias in the FROM clause stands for (SQLite's plan names aliases). */
function tableOf(sql: string, alias: string): string {
  const m = new RegExp(`(?:FROM|JOIN)\\s+(\\w+)\\s+(?:AS\\s+)?${alias}\\b`, 'i').exec(sql);
  return m?.[1] ?? alias;
}

interface PgNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PgNode[];
}

function postgresDb(client: pg.Client): Db {
  return {
    dialect: postgresDialect,
    exec: async (sql) => void (await client.query(sql)),
    optimize: async () => void (await client.query('ANALYZE')),
    rows: async (sql) => (await client.query(sql)).rows,
    partialIndexes: async () =>
      new Set(
        (await client.query('SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indpred IS NOT NULL')).rows.map(
          (r: { name: string }) => r.name,
        ),
      ),
    async plan(q) {
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${numberPlaceholders(q.sql)}`, q.params);
      const root = (rows[0] as { 'QUERY PLAN': [{ Plan: PgNode }] })['QUERY PLAN'][0].Plan;
      const scans: { table: string; index: string | null; cond: string | null }[] = [];
      const relationOf = new Map<string, string>();
      const walk = (n: PgNode) => {
        const type = n['Node Type'];
        if (type === 'Seq Scan' && n['Relation Name']) scans.push({ table: n['Relation Name'], index: null, cond: null });
        if (/Index/.test(type) && n['Index Name']) {
          // A Bitmap Index Scan names only its index; its table is the Bitmap Heap Scan above it.
          const table = n['Relation Name'] ?? relationOf.get(n['Index Name']) ?? '';
          scans.push({ table, index: n['Index Name'], cond: n['Index Cond'] ?? null });
        }
        if (type === 'Bitmap Heap Scan' && n['Relation Name'])
          for (const c of n.Plans ?? []) if (c['Index Name']) relationOf.set(c['Index Name'], n['Relation Name']);
        n.Plans?.forEach(walk);
      };
      walk(root);
      const text = await client.query(`EXPLAIN ${numberPlaceholders(q.sql)}`, q.params);
      return { text: text.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'), scans };
    },
  };
}

async function assertBounded(db: Db, statistics: string) {
  const failures: string[] = [];
  const partial = await db.partialIndexes();
  for (const [name, queries] of await hotQueries(db.dialect)) {
    for (const q of queries) {
      const { text, scans } = await db.plan(q);
      const problems = scans.map((scan) => unbounded(q.sql, scan, partial)).filter((p): p is string => p !== null && !allowed(name, p));
      if (process.env.AMTP_SHOW_PLANS) console.log(`# ${name}\n${q.sql.replace(/\s+/g, ' ')}\n${text}\n`);
      if (problems.length)
        failures.push(`${name} (${statistics}) ${problems.join('; ')}:\n  ${q.sql.replace(/\s+/g, ' ')}\n  ${text.replace(/\n/g, '\n  ')}`);
    }
  }
  assert.deepEqual(failures, [], failures.join('\n\n'));
}

/** The per-mailbox retention sweep visits every mailbox once (by the agents' primary key): that is its job. */
const allowed = (name: string, problem: string) => name === 'retention: messages per mailbox' && problem === 'reads all of agents';

const skip = backend === 'postgres' ? postgresSkip('query plans on PostgreSQL') : undefined;

describe(`hot query plans are index-bounded (${backend})`, { skip }, () => {
  let db: Db;
  let cleanup: () => Promise<void>;

  before(async () => {
    if (backend === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'amtp-plans-'));
      const store = new SqliteStore({ path: join(dir, 'amtp.sqlite'), durability: 'relaxed' });
      await store.migrate();
      db = sqliteDb(store);
      cleanup = async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      };
    } else {
      const database: TestDatabase = await freshDatabase();
      const store = new PostgresStore({ url: database.url, maxConnections: 1 });
      await store.migrate();
      await store.close();
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      db = postgresDb(client);
      cleanup = async () => {
        await client.end();
        await database.drop();
      };
    }
    for (const sql of seedSql(db.dialect)) await db.exec(sql);
  });
  after(() => cleanup());

  test('without planner statistics', () => assertBounded(db, 'no statistics'));

  test('with fresh statistics (PRAGMA optimize / ANALYZE)', async () => {
    await db.optimize();
    if (db.dialect.name === 'sqlite') {
      const analyzed = await db.rows("SELECT DISTINCT tbl FROM sqlite_stat1 WHERE tbl IN ('messages', 'events', 'outbox')");
      assert.equal(analyzed.length, 3, 'PRAGMA optimize analyzed the grown tables');
    }
    await assertBounded(db, 'analyzed');
  });
});
