/**
 * Faults: webhook receivers that fail, reset, hang or answer slowly; a full disk (a real tiny tmpfs
 * where it can be mounted, and SQLite's page limit everywhere) and a locked database give clear 503s with Retry-After, lose nothing acknowledged and recover without a
 * restart; PostgreSQL connections killed, or the whole PostgreSQL server restarted, under load are
 * survived on their own.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { postgresSkip, startPostgresCluster } from '../helpers/postgres.js';
import { startReceiver, waitFor, type Answer } from '../helpers/receiver.js';
import { backend, connect, register, startServer, type TestAgent } from '../helpers/server.js';

test('webhook receivers that fail, reset, hang and answer slowly: every event arrives once, in seq order; sends never wait for them', async () => {
  const t = await startServer({
    AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true',
    AMTP_WEBHOOK_ALLOW_HTTP: 'true',
    AMTP_WEBHOOK_TIMEOUT_SECONDS: '1',
    AMTP_WEBHOOK_RETRY_SCHEDULE: Array(20).fill('0.05').join(','),
  });
  const script: Answer[] = [500, 'reset', 'hang', { status: 200, delayMs: 300 }, 'reset', 503, { status: 204, delayMs: 50 }];
  const hook = await startReceiver((n) => script[n] ?? 200);
  try {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    await b.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const sent = await a.api.post('/api/messages', { recipient_id: b.id, body: `m${i}` });
      assert.equal(sent.status, 202, 'a misbehaving receiver never holds up a send');
      ids.push(sent.body.id);
    }
    await waitFor(() => hook.accepted().length >= 6, 'all six delivered', 30_000);
    // A failed delivery steps aside and is retried on its own (SPEC §8.2): the body's seq gives the order.
    const accepted = hook.accepted().map((r) => JSON.parse(r.body) as { seq: number; data: { message_id: string } });
    assert.deepEqual(
      accepted.sort((x, y) => x.seq - y.seq).map((e) => e.data.message_id),
      ids,
      'each once, in order of creation by seq',
    );
    // The receiver has answered; the server records the outcome right after.
    const log = await waitFor(async () => {
      const deliveries = (await b.api.get('/api/me/webhook/deliveries')).body.deliveries;
      return deliveries.length === 6 && deliveries.every((d: any) => d.status === 'delivered') && deliveries;
    }, 'six deliveries recorded as delivered');
    const errors = log
      .map((d: any) => d.last_error)
      .filter(Boolean)
      .join(' ');
    console.log(
      `webhook faults: ${hook.received.length} attempts (500, reset, hang, slow 200, reset, 503, slow 204, …) → 6/6 delivered once, in seq order`,
    );
    assert.ok(hook.received.length >= script.length);
    assert.ok(
      log.some((d: any) => d.attempts > 1),
      errors,
    );
  } finally {
    await hook.close();
    await t.close();
  }
});

test(
  'database locked by another process (SQLite): 503 storage_unavailable with Retry-After; reads go on; recovery without restart',
  { skip: backend !== 'sqlite' && 'SQLite only' },
  async () => {
    const t = await startServer();
    const other = new Database(join(t.dataDir, 'amtp.sqlite'));
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      await (t.server.core.store as SqliteStore).pragma('busy_timeout = 100'); // default 5000: keep the test short
      other.exec('BEGIN IMMEDIATE'); // another process (a backup script, a sqlite3 shell) holds the write lock
      const refused = await a.api.post('/api/messages', { recipient_id: b.id, body: 'while locked', client_id: 'locked-1' });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'storage_unavailable');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.equal((await b.api.get('/api/inbox')).status, 200, 'reads still work (WAL)');
      other.exec('COMMIT');
      const retried = await a.api.post('/api/messages', { recipient_id: b.id, body: 'while locked', client_id: 'locked-1' });
      assert.equal(retried.status, 202, 'recovered without a restart');
      assert.equal((await b.api.get('/api/inbox')).body.messages.length, 1, 'exactly once');
    } finally {
      other.close();
      await t.close();
    }
  },
);

test(
  'PostgreSQL restarted under load: transient 503s, then the server recovers on its own; nothing acknowledged is lost or doubled',
  { skip: backend !== 'postgres' ? 'PostgreSQL only' : postgresSkip('PostgreSQL restart') },
  async () => {
    const cluster = await startPostgresCluster();
    const t = await startServer({ DATABASE_URL: cluster.url, AMTP_RATE_SEND_PER_MINUTE: '0', AMTP_RATE_PAIR_PER_MINUTE: '0' });
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      const acknowledged = new Set<string>();
      let unavailable = 0;
      const sendUntilAccepted = async (sender: TestAgent, clientId: string) => {
        for (let attempt = 0; ; attempt++) {
          const res = await sender.api.post('/api/messages', { recipient_id: b.id, body: clientId, client_id: clientId }).catch(() => null);
          if (res?.status === 202) return void acknowledged.add(res.body.id);
          if (res) {
            assert.equal(res.status, 503, JSON.stringify(res.body));
            assert.equal(res.body.error.code, 'storage_unavailable');
            assert.ok(res.headers.get('retry-after'));
          }
          unavailable++;
          assert.ok(attempt < 200, 'the server did not recover');
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      let sent = 0;
      const load = (async () => {
        for (; sent < 150; sent++) await sendUntilAccepted(a, `restart-${sent}`);
      })();
      await waitFor(() => sent >= 30, 'load under way');
      await cluster.restart();
      await load;
      const inbox = await b.api.get('/api/inbox?limit=200');
      const ids = inbox.body.messages.map((m: any) => m.id);
      assert.equal(ids.length, 150, 'every message exactly once');
      assert.deepEqual(new Set(ids), acknowledged);
      await b.api.post('/api/inbox/read');
      const waiting = b.api.get('/api/inbox?wait=10&unread_only=true');
      await a.api.post('/api/messages', { recipient_id: b.id, body: 'after the restart' });
      assert.equal((await waiting).body.messages.length, 1, 'wake-ups work after the restart');
      console.log(
        `postgres restart under load: 150 acknowledged, 150 found, 0 duplicates, ${unavailable} transient failures, recovered on its own`,
      );
    } finally {
      await t.close();
      cluster.stop();
    }
  },
);

/** A tmpfs of `size` at a new directory, or why one cannot be mounted here (needs root and mount rights). */
function tinyFilesystem(size: string): { dir: string; resize(size: string): void; remove(): void } | string {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = mkdtempSync(join(tmpdir(), 'amtp-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return `mount -t tmpfs failed: ${(error as { stderr?: Buffer }).stderr?.toString().trim()}`;
  }
  return {
    dir,
    resize: (next) => void execFileSync('mount', ['-o', `remount,size=${next}`, dir], { stdio: 'pipe' }),
    remove: () => {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test(
  'disk really full (a 3 MiB tmpfs data dir): 503 storage_unavailable with Retry-After, no corruption, recovery without restart',
  { skip: backend !== 'sqlite' && 'SQLite only' },
  async (context) => {
    const fs = tinyFilesystem('3m');
    if (typeof fs === 'string') return context.skip(`${fs} (the page-limit test below covers the same path)`);
    const t = await startServer({ AMTP_DATA_DIR: fs.dir, AMTP_RATE_SEND_PER_MINUTE: '0', AMTP_RATE_PAIR_PER_MINUTE: '0' });
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      const accepted: string[] = [];
      let refused: number | null = null;
      for (let i = 0; i < 2000 && refused === null; i++) {
        const res = await a.api.post('/api/messages', { recipient_id: b.id, body: 'x'.repeat(16_000), client_id: `fill-${i}` });
        if (res.status === 202) accepted.push(res.body.id);
        else {
          assert.equal(res.status, 503, JSON.stringify(res.body));
          assert.equal(res.body.error.code, 'storage_unavailable');
          assert.ok(Number(res.headers.get('retry-after')) >= 1);
          refused = i;
        }
      }
      assert.notEqual(refused, null, 'the disk filled up');
      assert.equal((await b.api.get('/api/me')).status, 200, 'reads still work');
      fs.resize('64m'); // the operator frees space
      const retry = await a.api.post('/api/messages', { recipient_id: b.id, body: 'x'.repeat(16_000), client_id: `fill-${refused}` });
      assert.equal(retry.status, 202, 'recovered without a restart');
      accepted.push(retry.body.id);
      const ids: string[] = [];
      for (let cursor: string | null = null, first = true; first || cursor; first = false) {
        const page: any = await b.api.get(`/api/inbox?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
        ids.push(...page.body.messages.map((m: any) => m.id));
        cursor = page.body.next_cursor;
      }
      assert.deepEqual(ids.sort(), [...accepted].sort(), 'every acknowledged message exactly once');
      assert.equal((await b.api.get('/api/me/audit/verify')).body.valid, true);
      assert.equal(await (t.server.core.store as SqliteStore).pragma('integrity_check'), 'ok', 'no corruption');
      console.log(
        `disk full (tmpfs): ${accepted.length - 1} accepted, then 503 storage_unavailable; after freeing space the retry was accepted; integrity ok`,
      );
    } finally {
      await t.close();
      fs.remove();
    }
  },
);

test(
  'disk full (SQLite page limit): 503 storage_unavailable with Retry-After, then recovery without restart',
  { skip: backend !== 'sqlite' && 'SQLite only' },
  async () => {
    const t = await startServer();
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      const ok = await a.api.post('/api/messages', { recipient_id: b.id, body: 'before' });
      assert.equal(ok.status, 202);
      const store = t.server.core.store as SqliteStore;
      const pages = (await store.pragma('page_count')) as number;
      await store.pragma(`max_page_count = ${pages}`); // no room for one more page: like a full disk
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
      await store.pragma('max_page_count = 1073741823');
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
  },
);

test(
  'PostgreSQL: server connections killed under load are replaced on their own',
  { skip: backend !== 'postgres' && 'PostgreSQL only' },
  async () => {
    const t = await startServer();
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      const admin = new pg.Client({ connectionString: t.config.databaseUrl! });
      admin.on('error', () => undefined); // the killing connection itself is not under test
      await admin.connect();
      let accepted = 0;
      let unavailable = 0;
      for (let round = 0; round < 5; round++) {
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
        for (let i = 0; i < 10; i++) {
          for (let attempt = 0; ; attempt++) {
            const res = await a.api.post('/api/messages', { recipient_id: b.id, body: `r${round}-${i}`, client_id: `pg-${round}-${i}` });
            if (res.status === 202) break;
            assert.equal(res.status, 503);
            assert.equal(res.body.error.code, 'storage_unavailable');
            assert.ok(attempt < 10, 'the server did not recover');
            unavailable++;
          }
          accepted++;
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
  },
);
