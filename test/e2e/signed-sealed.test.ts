/**
 * End to end through the real server, the `amtp` CLI and `amtp mcp` (driven by the official MCP SDK
 * client): A sends a sealed, signed message to B; the server stores only ciphertext; B reads it
 * with the CLI and through the local MCP proxy; replays, stale times and tampered MACs are refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { AmtpClient } from '../../src/client/client.js';
import { SecureMailbox } from '../../src/client/secure.js';
import { signMessage } from '../../src/crypto/sign.js';
import { CLI, amtp } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SECRET = 'PLAINTEXT-MARKER-the-merger-closes-on-friday-7c1e';

/** Everything the server stored: the SQLite files, or every row of every PostgreSQL table as text. */
async function databaseBytes(t: TestServer): Promise<Buffer[]> {
  if (!t.config.databaseUrl) {
    const files = readdirSync(t.dataDir).map((f) => readFileSync(join(t.dataDir, f)));
    assert.ok(files.some((b) => b.length > 0));
    return files;
  }
  const db = new pg.Client({ connectionString: t.config.databaseUrl });
  await db.connect();
  try {
    const tables = (await db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename as string);
    // One query at a time: a pg client runs queries in sequence (queueing a second is deprecated).
    const dumps: string[] = [];
    for (const name of tables)
      dumps.push((await db.query(`SELECT coalesce(string_agg(t::text, E'\\n'), '') AS rows FROM "${name}" t`)).rows[0].rows as string);
    assert.ok(dumps.join('').includes('x25519-xchacha20poly1305'), 'the ciphertext is there');
    return dumps.map((d) => Buffer.from(d));
  } finally {
    await db.end();
  }
}

describe('signed and sealed, end to end', () => {
  let t: TestServer;
  const dirs = { a: mkdtempSync(join(tmpdir(), 'amtp-cli-a-')), b: mkdtempSync(join(tmpdir(), 'amtp-cli-b-')) };
  const as = (who: 'a' | 'b', ...args: string[]) => amtp(args, { AMTP_CONFIG_DIR: dirs[who] });
  const ring = (who: 'a' | 'b') => JSON.parse(readFileSync(join(dirs[who], 'default.json'), 'utf8'));

  before(async () => {
    t = await startServer();
  });
  after(async () => {
    await t.close();
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  });

  test('register with local keys, connect, send sealed + signed, read with the CLI and with amtp mcp', async () => {
    const ra = await as('a', 'register', 'e2e-alice', '--server', t.url);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal((await as('b', 'register', 'e2e-bob', '--server', t.url)).code, 0);
    assert.equal(statSync(join(dirs.a, 'default.json')).mode & 0o777, 0o600, 'keyring is owner-only');
    const profile = await fetch(`${t.url}/api/agents/e2e-alice`).then((r) => r.json());
    assert.equal(profile.public_key, ring('a').signing.publicKey);
    assert.equal(JSON.stringify(profile).includes(ring('a').signing.secretKey), false, 'the private key never reached the server');

    assert.equal((await as('a', 'request', 'e2e-bob', '--note', 'hi')).code, 0);
    const requests = JSON.parse((await as('b', 'requests', '--incoming', '--json')).stdout);
    assert.equal((await as('b', 'approve', requests[0].id)).code, 0);

    const sent = await as('a', 'send', 'e2e-bob', SECRET, '--subject', 'confidential', '--json');
    assert.equal(sent.code, 0, sent.stderr);
    const { id } = JSON.parse(sent.stdout);

    const inbox = await as('b', 'inbox', '--unread');
    assert.equal(inbox.code, 0, inbox.stderr);
    assert.match(inbox.stdout, new RegExp(SECRET));
    assert.match(inbox.stdout, /signature: verified · sealed/);
    assert.match(inbox.stdout, /untrusted content/);
    const outbox = await as('a', 'status', id, '--json');
    assert.equal(JSON.parse(outbox.stdout).body, SECRET, 'the sender reads its own sealed copy');

    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...CLI, 'mcp'],
      env: { ...(process.env as Record<string, string>), AMTP_CONFIG_DIR: dirs.b },
    });
    const client = new Client({ name: 'e2e', version: '1' });
    await client.connect(transport);
    await client.listTools(); // as real clients do: results are then checked against each outputSchema
    const result = (await client.callTool({ name: 'a2a_check_inbox', arguments: { limit: 10 } })) as {
      content: { text: string }[];
      structuredContent: any;
    };
    assert.match(result.content[0]!.text, /signature: verified/);
    assert.match(result.content[0]!.text, new RegExp(`body:\\n${SECRET}`));
    assert.equal(result.structuredContent.messages[0].body, SECRET);
    const reply = (await client.callTool({
      name: 'a2a_send_message',
      arguments: { recipient_id: 'e2e-alice', body: 'sealed reply', reply_to_id: id },
    })) as { structuredContent: any };
    assert.equal(reply.structuredContent.status, 'queued');
    await client.close();
    const aInbox = await as('a', 'inbox', '--json');
    assert.equal(JSON.parse(aInbox.stdout).messages[0].body, 'sealed reply');

    // The server's database holds no byte of the plaintext.
    for (const bytes of await databaseBytes(t)) {
      assert.equal(bytes.includes(Buffer.from(SECRET)), false);
      assert.equal(bytes.includes(Buffer.from('sealed reply')), false);
    }
  });

  test('the server refuses unsigned, forged, replayed and stale messages from an agent with a signing key', async () => {
    const a = ring('a');
    const b = ring('b');
    const api = new AmtpClient({ baseUrl: t.url, apiKey: a.api_key });
    const base = { sender_id: a.agent_id, recipient_id: b.agent_id, scope: 'message', body: 'signed plain' };
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (e) => e.code,
      );

    assert.equal(await codeOf(api.send({ recipient_id: b.agent_id, body: 'unsigned' })), 'signature_required');
    const sig = signMessage(base, a.signing.secretKey);
    assert.equal(await codeOf(api.send({ recipient_id: b.agent_id, body: 'signed but altered', ...sig })), 'invalid_signature');
    assert.equal(await codeOf(api.send({ recipient_id: b.agent_id, body: 'signed plain', ...sig })), 'accepted');
    assert.equal(await codeOf(api.send({ recipient_id: b.agent_id, body: 'signed plain', ...sig })), 'replayed_nonce');
    const stale = signMessage(base, a.signing.secretKey, { now: new Date(Date.now() - 10 * 60_000) });
    assert.equal(await codeOf(api.send({ recipient_id: b.agent_id, body: 'signed plain', ...stale })), 'stale_signature');
    const future = signMessage(base, a.signing.secretKey, { now: new Date(Date.now() + 10 * 60_000) });
    assert.equal(await codeOf(api.send({ recipient_id: b.agent_id, body: 'signed plain', ...future })), 'stale_signature');
  });

  test('a tampered delivery MAC is refused by the client: nothing is shown', async () => {
    const b = ring('b');
    const client = new AmtpClient({ baseUrl: t.url, apiKey: b.api_key });
    const secure = new SecureMailbox(client, b, { get: () => undefined, set: () => undefined });
    const [m] = (await client.inbox({ limit: 1 })).messages;
    await secure.receive(m!);
    await assert.rejects(secure.receive({ ...m!, sender_name: 'someone-else' }), /delivery MAC/);
    await assert.rejects(
      secure.receive({ ...m!, delivery_mac: m!.delivery_mac.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }),
      /delivery MAC/,
    );

    const tampered = { ...ring('b'), delivery_secret: 'ds_wrong' };
    writeFileSync(join(dirs.b, 'default.json'), JSON.stringify(tampered));
    const refused = await as('b', 'inbox');
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /delivery MAC/);
    assert.doesNotMatch(refused.stdout, new RegExp(SECRET));
    writeFileSync(join(dirs.b, 'default.json'), JSON.stringify(b));
  });

  test('keys: a signed rotation keeps the pin; an unverified reset is flagged and fails verification', async () => {
    assert.equal((await as('a', 'keys', 'rotate')).code, 0);
    const profile = await fetch(`${t.url}/api/agents/e2e-alice`).then((r) => r.json());
    assert.equal(profile.public_key, ring('a').signing.publicKey);
    assert.equal(profile.keys_reset_at, null);
    assert.ok(profile.key_rotation.signature);
    assert.equal((await as('a', 'send', 'e2e-bob', 'after rotation')).code, 0);
    const after = await as('b', 'inbox', '--unread');
    assert.match(after.stdout, /after rotation/);
    assert.match(after.stdout, /signature: verified/);
    assert.doesNotMatch(after.stderr, /WARNING/);

    // A reset with the API key alone (no statement signed by the old key) is accepted but flagged.
    const a = ring('a');
    const api = new AmtpClient({ baseUrl: t.url, apiKey: a.api_key });
    const { generateSigningKeyPair } = await import('../../src/crypto/sign.js');
    const stolen = generateSigningKeyPair();
    const reset = await api.request<any>('PUT', '/api/me/keys', { body: { public_key: stolen.publicKey } });
    assert.ok(reset.keys_reset_at);
    const audit = await api.audit({ limit: 100 });
    assert.ok(audit.entries.some((e) => e.action === 'keys.reset'));
    writeFileSync(join(dirs.a, 'default.json'), JSON.stringify({ ...a, signing: stolen }));
    assert.equal((await as('a', 'send', 'e2e-bob', 'from the reset key')).code, 0);
    const warned = await as('b', 'inbox', '--unread');
    assert.match(warned.stderr, /WARNING: e2e-alice .* changed keys WITHOUT a valid rotation statement/);
    assert.match(warned.stdout, /signature: failed/);
  });
});

test('typed intents of sealed messages are validated by the recipient’s client', async () => {
  const t = await startServer();
  const dirs = { a: mkdtempSync(join(tmpdir(), 'amtp-cli-a-')), b: mkdtempSync(join(tmpdir(), 'amtp-cli-b-')) };
  const as = (who: 'a' | 'b', ...args: string[]) => amtp(args, { AMTP_CONFIG_DIR: dirs[who] });
  try {
    await as('a', 'register', 'intent-a', '--server', t.url);
    await as('b', 'register', 'intent-b', '--server', t.url);
    const caps = join(dirs.b, 'caps.json');
    writeFileSync(
      caps,
      JSON.stringify([
        {
          id: 'scheduling',
          title: 'Calendar',
          input_schema: { type: 'object', required: ['minutes'], properties: { minutes: { type: 'integer' } } },
        },
      ]),
    );
    assert.equal((await as('b', 'capabilities', 'set', caps)).code, 0);
    await as('a', 'request', 'intent-b');
    await as('b', 'approve', JSON.parse((await as('b', 'requests', '--json')).stdout)[0].id);
    assert.equal((await as('a', 'send', 'intent-b', 'ok', '--intent', 'scheduling', '--payload', '{"minutes":30}')).code, 0);
    assert.equal(
      (await as('a', 'send', 'intent-b', 'bad', '--intent', 'scheduling', '--payload', '{"minutes":"soon"}')).code,
      0,
      'the server cannot check a sealed payload',
    );
    const inbox = await as('b', 'inbox');
    assert.equal((inbox.stdout.match(/WARNING: payload does not match the "scheduling" schema/g) ?? []).length, 1);
  } finally {
    await t.close();
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  }
});
