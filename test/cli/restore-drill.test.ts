/**
 * The restore drill an operator runs, on both backends: back up a running server, start a fresh one
 * from the copy, and see the same mailboxes through the API. Backup files are private (0600) and an
 * encrypted export holds no secret or message in the clear.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { amtp } from '../helpers/cli.js';
import { freshDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';
import { client, connect, register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'amtp-drill-'));
const databases: TestDatabase[] = [];
after(async () => {
  await Promise.all(databases.map((d) => d.drop()));
  rmSync(dir, { recursive: true, force: true });
});

const SECRET_BODY = 'the meeting moved to the boathouse';
const WEBHOOK_SECRET = 'whsec_drill_c2VjcmV0LXNlY3JldC1zZWNyZXQ';
const PASSPHRASE = 'correct horse battery staple';
const mode = (file: string) => statSync(file).mode & 0o777;

/** Two connected agents with mail both ways, one read, a webhook with its secret. */
async function populate(t: TestServer): Promise<TestAgent[]> {
  const [a, b] = [await register(t.url), await register(t.url)];
  await connect(a, b);
  for (const body of [SECRET_BODY, 'second']) assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body })).status, 202);
  const inbox = await b.api.get('/api/inbox');
  await b.api.post(`/api/messages/${inbox.body.messages[0].id}/read`);
  await b.api.post('/api/messages', { recipient_id: a.id, body: 'reply' });
  const now = new Date().toISOString();
  await t.server.core.store.apply([
    {
      op: 'putWebhook',
      webhook: {
        agent_id: b.id,
        url: 'https://hooks.example/b',
        secret: WEBHOOK_SECRET,
        events: ['message.received'],
        enabled: true,
        disabled_reason: null,
        created_at: now,
        updated_at: now,
      },
    },
  ]);
  return [a, b];
}

/** What each agent sees of its mailbox, through the API with its own key. */
async function mailboxes(url: string, agents: TestAgent[]): Promise<unknown[]> {
  const out = [];
  for (const agent of agents) {
    const api = client(url, agent.key);
    const me = (await api.get('/api/me')).body;
    out.push({
      me,
      inbox: (await api.get('/api/inbox?unread_only=false')).body,
      outbox: (await api.get('/api/outbox')).body,
      peers: (await api.get('/api/peers')).body,
      webhook: (await api.get('/api/me/webhook')).body,
      audit: (await api.get('/api/me/audit')).body,
      verify: (await api.get('/api/me/audit/verify')).body,
    });
  }
  return out;
}

async function viewsSettled(url: string, agents: TestAgent[]) {
  await mailboxes(url, agents); // settles delivery receipts, so reading again changes nothing
  return mailboxes(url, agents);
}

function assertNoCleartextSecrets(file: string) {
  const bytes = readFileSync(file, 'latin1');
  assert.ok(!bytes.includes(SECRET_BODY), 'no message body in the clear');
  assert.ok(!bytes.includes(WEBHOOK_SECRET), 'no webhook secret in the clear');
  assert.ok(!bytes.includes('"delivery_secret"'), 'no delivery secret column in the clear');
}

describe('restore drill on SQLite: amtp backup → fresh data dir → same mailboxes', () => {
  test('backup and encrypted export are 0600; the restored server shows the same mailboxes', async () => {
    const source = await startServer({}, { backend: 'sqlite' });
    let agents: TestAgent[];
    let before: unknown[];
    const backup = join(dir, 'amtp.sqlite.bak');
    const encrypted = join(dir, 'sqlite.jsonl.enc');
    try {
      agents = await populate(source);
      before = await viewsSettled(source.url, agents);
      const result = await amtp(['backup', backup], { AMTP_DATA_DIR: source.dataDir });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(mode(backup), 0o600);
      const exported = await amtp(['export', '--encrypt', encrypted], {
        AMTP_DATA_DIR: source.dataDir,
        AMTP_EXPORT_PASSPHRASE: PASSPHRASE,
      });
      assert.equal(exported.code, 0, exported.stderr);
      assert.equal(mode(encrypted), 0o600);
      assertNoCleartextSecrets(encrypted);
    } finally {
      await source.close();
    }

    const fresh = mkdtempSync(join(dir, 'restored-'));
    copyFileSync(backup, join(fresh, 'amtp.sqlite'));
    const restored = await startServer({ AMTP_DATA_DIR: fresh }, { backend: 'sqlite' });
    try {
      assert.deepEqual(await mailboxes(restored.url, agents), before);
    } finally {
      await restored.close();
    }

    // The encrypted export restores too, into another fresh data dir.
    const fromExport = mkdtempSync(join(dir, 'imported-'));
    const imported = await amtp(['import', encrypted], { AMTP_DATA_DIR: fromExport, AMTP_EXPORT_PASSPHRASE: PASSPHRASE });
    assert.equal(imported.code, 0, imported.stderr);
    const again = await startServer({ AMTP_DATA_DIR: fromExport }, { backend: 'sqlite' });
    try {
      assert.deepEqual(await mailboxes(again.url, agents), before);
    } finally {
      await again.close();
    }
  });
});

describe(
  'restore drill on PostgreSQL: encrypted amtp export → fresh database → amtp import → same mailboxes',
  { skip: postgresSkip('PostgreSQL restore drill') },
  () => {
    test('the export is 0600 and opaque; a wrong passphrase imports nothing; the right one restores every mailbox', async () => {
      const sourceDb = await freshDatabase();
      databases.push(sourceDb);
      const source = await startServer({ DATABASE_URL: sourceDb.url });
      let agents: TestAgent[];
      let before: unknown[];
      const file = join(dir, 'pg.jsonl.enc');
      const plain = join(dir, 'pg.jsonl');
      const passphraseFile = join(dir, 'passphrase');
      writeFileSync(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
      try {
        agents = await populate(source);
        before = await viewsSettled(source.url, agents);
        const exported = await amtp(['export', '--encrypt', '--passphrase-file', passphraseFile, file], { DATABASE_URL: sourceDb.url });
        assert.equal(exported.code, 0, exported.stderr);
        assert.match(exported.stderr, /encrypted/);
        assert.equal(mode(file), 0o600);
        assertNoCleartextSecrets(file);
        assert.equal((await amtp(['export', plain], { DATABASE_URL: sourceDb.url })).code, 0);
        assert.equal(mode(plain), 0o600, 'a plain export is private too');
        assert.ok(readFileSync(plain, 'utf8').includes(WEBHOOK_SECRET), 'the plain export holds the secrets SELF-HOSTING warns about');
      } finally {
        await source.close();
      }

      const target = await freshDatabase();
      databases.push(target);
      const noPassphrase = await amtp(['import', file], { DATABASE_URL: target.url });
      assert.equal(noPassphrase.code, 1);
      assert.match(noPassphrase.stderr, /encrypted export: give its passphrase/);
      const wrong = await amtp(['import', file], { DATABASE_URL: target.url, AMTP_EXPORT_PASSPHRASE: 'not the passphrase at all' });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /wrong passphrase, or the file was altered or truncated/);
      const tampered = join(dir, 'tampered.enc');
      const bytes = readFileSync(file);
      bytes[bytes.length - 40]! ^= 1;
      writeFileSync(tampered, bytes);
      const altered = await amtp(['import', tampered], { DATABASE_URL: target.url, AMTP_EXPORT_PASSPHRASE: PASSPHRASE });
      assert.equal(altered.code, 1);
      assert.match(altered.stderr, /altered/);

      const imported = await amtp(['import', '--passphrase-file', passphraseFile, file], { DATABASE_URL: target.url });
      assert.equal(imported.code, 0, `the failed imports left nothing behind: ${imported.stderr}`);
      assert.doesNotMatch(imported.stdout, /MISMATCH/);
      const restored = await startServer({ DATABASE_URL: target.url });
      try {
        assert.deepEqual(await mailboxes(restored.url, agents), before);
      } finally {
        await restored.close();
      }
    });

    test('--encrypt refuses to run without a passphrase or with a short one, and writes nothing', async () => {
      const db = await freshDatabase();
      databases.push(db);
      const file = join(dir, 'refused.enc');
      const none = await amtp(['export', '--encrypt', file], { DATABASE_URL: db.url });
      assert.equal(none.code, 1);
      assert.match(none.stderr, /AMTP_EXPORT_PASSPHRASE/);
      const short = await amtp(['export', '--encrypt', file], { DATABASE_URL: db.url, AMTP_EXPORT_PASSPHRASE: 'short' });
      assert.equal(short.code, 1);
      assert.match(short.stderr, /at least 12 characters/);
      assert.equal(existsSync(file), false);
    });
  },
);
