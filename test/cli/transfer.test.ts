import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { amtp } from '../helpers/cli.js';
import { freshDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';
import { client, connect, register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

const skip = postgresSkip('export/import suite');

/** The data lines of an export, parsed (the header carries the time and source dialect). */
const rows = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l));

describe('amtp export / import: SQLite → PostgreSQL → SQLite', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'amtp-transfer-'));
  const databases: TestDatabase[] = [];
  let source: TestServer;
  let agents: TestAgent[];
  let views: (agents: { id: string; key: string }[], url: string) => Promise<unknown>;
  let before_: unknown;

  before(async () => {
    source = await startServer({}, { backend: 'sqlite' });
    const [a, b, c] = [await register(source.url), await register(source.url), await register(source.url)];
    agents = [a, b, c];
    await connect(a, b, ['message', 'scheduling']);
    await c.api.post('/api/contact-requests', { agent_id: a.id, note: 'hello?' });
    for (const body of ['one', 'two', 'three'])
      await a.api.post('/api/messages', { recipient_id: b.id, subject: 's', body, client_id: `c-${body}` });
    const inbox = await b.api.get('/api/inbox');
    await b.api.post(`/api/messages/${inbox.body.messages[0].id}/read`);
    await b.api.post('/api/messages', {
      recipient_id: a.id,
      body: 'reply',
      reply_to_id: inbox.body.messages[0].id,
      scope: 'message',
      payload: { z: 1, a: [true, null] },
    });
    await b.api.put('/api/me/capabilities', { capabilities: [{ id: 'scheduling', title: 'Calendar' }] });
    await source.server.core.admin.createInvite(null);
    const store = source.server.core.store;
    const now = new Date().toISOString();
    await store.apply([
      {
        op: 'putWebhook',
        webhook: {
          agent_id: c.id,
          url: 'https://hooks.example/c',
          secret: 'whsec_x',
          events: ['message.received'],
          enabled: true,
          disabled_reason: null,
          created_at: now,
          updated_at: now,
        },
      },
      { op: 'appendEvent', event: { id: 'evt_transfer', agent_id: c.id, type: 'message.received', data: { n: 1 }, created_at: now } },
      { op: 'disableWebhook', agent_id: c.id, reason: 'test', at: now },
    ]);

    views = async (list, url) => {
      const out: unknown[] = [];
      for (const { id, key } of list) {
        const api = client(url, key);
        out.push({
          id,
          inbox: (await api.get('/api/inbox?unread_only=false')).body,
          outbox: (await api.get('/api/outbox')).body,
          peers: (await api.get('/api/peers')).body,
          requests: (await api.get('/api/contact-requests')).body,
          conversations: (await api.get('/api/conversations')).body,
          audit: (await api.get('/api/me/audit')).body,
          verify: (await api.get('/api/me/audit/verify')).body,
          caps: (await api.get(`/api/agents/${id}/capabilities`)).body,
        });
      }
      return out;
    };
    await views(agents, source.url); // settles delivery receipts, so reading again changes nothing
    before_ = await views(agents, source.url);
  });
  after(async () => {
    await source?.close();
    await Promise.all(databases.map((d) => d.drop()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a server moved to PostgreSQL shows the same mailboxes, and moves back unchanged', async () => {
    const dump1 = join(dir, 'from-sqlite.jsonl');
    const exported = await amtp(['export', dump1], { AMTP_DATA_DIR: source.dataDir });
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^agents\s+3$/m);
    assert.match(exported.stdout, /^messages\s+4$/m);

    const pgDb = await freshDatabase();
    databases.push(pgDb);
    const imported = await amtp(['import', dump1], { DATABASE_URL: pgDb.url });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^messages\s+4\s+4\s+ok$/m);
    assert.doesNotMatch(imported.stdout, /MISMATCH/);

    // Back: PostgreSQL → a fresh SQLite data dir; all three exports hold the same rows.
    const dump2 = join(dir, 'from-postgres.jsonl');
    assert.equal((await amtp(['export', dump2], { DATABASE_URL: pgDb.url })).code, 0);
    const sqliteDir = mkdtempSync(join(dir, 'back-'));
    const back = await amtp(['import', dump2], { AMTP_DATA_DIR: sqliteDir });
    assert.equal(back.code, 0, back.stderr);
    const dump3 = join(dir, 'back-in-sqlite.jsonl');
    assert.equal((await amtp(['export', dump3], { AMTP_DATA_DIR: sqliteDir })).code, 0);
    assert.deepEqual(rows(dump2), rows(dump1));
    assert.deepEqual(rows(dump3), rows(dump1));

    const target = await startServer({ DATABASE_URL: pgDb.url });
    try {
      assert.deepEqual(await views(agents, target.url), before_);
      const [a, b] = agents.map((x) => client(target.url, x.key));
      // Message seqs continue after the imported ones: a new message sorts last, idempotency keys still hold.
      const sent = await a!.post('/api/messages', { recipient_id: agents[1]!.id, body: 'after the move' });
      assert.equal(sent.status, 202);
      const inbox = (await b!.get('/api/inbox?unread_only=false&order=desc&limit=1')).body;
      assert.equal(inbox.messages[0].id, sent.body.id);
      const retry = await a!.post('/api/messages', { recipient_id: agents[1]!.id, subject: 's', body: 'one', client_id: 'c-one' });
      assert.equal(retry.body.id, (before_ as any)[1].inbox.messages[0].id);
    } finally {
      await target.close();
    }
  });

  test('import refuses a non-empty target and a truncated file, and leaves the target untouched', async () => {
    const dump = join(dir, 'again.jsonl');
    assert.equal((await amtp(['export', dump], { AMTP_DATA_DIR: source.dataDir })).code, 0);
    const again = await amtp(['export', dump], { AMTP_DATA_DIR: source.dataDir });
    assert.equal(again.code, 1, 'export never overwrites a file');

    const pgDb = await freshDatabase();
    databases.push(pgDb);
    const lines = readFileSync(dump, 'utf8').trim().split('\n');
    const truncated = join(dir, 'truncated.jsonl');
    writeFileSync(truncated, lines.slice(0, -1).join('\n'));
    const cut = await amtp(['import', truncated], { DATABASE_URL: pgDb.url });
    assert.equal(cut.code, 1);
    assert.match(cut.stderr, /truncated/);

    assert.equal((await amtp(['import', dump], { DATABASE_URL: pgDb.url })).code, 0, 'the failed import left nothing behind');
    const twice = await amtp(['import', dump], { DATABASE_URL: pgDb.url });
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /not empty/);
  });
});
