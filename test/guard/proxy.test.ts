/**
 * The leak guard on sealed mail (SPEC §17.4): the server cannot read it, so the `amtp mcp` stdio
 * proxy scans the plaintext before sealing and sends the message marked for holding; the human
 * approves it with the CLI, and the recipient opens it as usual.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HeldMessage } from '../../src/protocol/schemas.js';
import { amtp } from '../helpers/cli.js';
import { mcpProxy } from '../helpers/mcp.js';
import { client, startServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
const homes = { alice: '', bob: '' };
const as = async (who: keyof typeof homes, ...args: string[]) => {
  const r = await amtp(args, { AMTP_CONFIG_DIR: homes[who] });
  assert.equal(r.code, 0, `amtp ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

before(async () => {
  t = await startServer();
  homes.alice = mkdtempSync(join(tmpdir(), 'amtp-guard-a-'));
  homes.bob = mkdtempSync(join(tmpdir(), 'amtp-guard-b-'));
});
after(async () => {
  await t.close();
  for (const d of Object.values(homes)) rmSync(d, { recursive: true, force: true });
});

test('a sealed message carrying a key is held by the proxy before sealing, then approved by the human and opened by the recipient', async () => {
  // Registered with the CLI (keys generated and kept locally); the rest of the set-up over REST, to keep the test quick.
  await Promise.all([as('alice', 'register', 'guard-alice', '--server', t.url), as('bob', 'register', 'guard-bob', '--server', t.url)]);
  const [alice, bob] = (['alice', 'bob'] as const).map((who) =>
    client(t.url, (JSON.parse(readFileSync(join(homes[who], 'default.json'), 'utf8')) as { api_key: string }).api_key),
  );
  const request = await alice!.post('/api/contact-requests', { agent_id: 'guard-bob' });
  assert.equal((await bob!.post(`/api/contact-requests/${request.body.id}/approve`, {})).status, 200);
  assert.equal((await alice!.put('/api/me/guard', { leak_guard: true })).body.leak_guard, true);

  const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const proxy = await mcpProxy(homes.alice);
  try {
    assert.deepEqual(
      proxy.tools.filter((tool) => /held|approve/.test(tool.name)).map((tool) => tool.name),
      [],
      'the proxy offers no tool that approves held mail',
    );
    const sent = await proxy.call('a2a_send_message', { recipient_id: 'guard-bob', subject: 'access', body: `the server key:\n${pem}` });
    assert.ok(!sent.isError, sent.text);
    assert.equal(sent.data.status, 'held_for_approval');
    assert.match(sent.text, /HELD/);
  } finally {
    await proxy.close();
  }

  const [held] = (await alice!.get<{ held: HeldMessage[] }>('/api/held')).body.held;
  assert.equal(held!.body, null, 'sealed: the server holds no plaintext');
  assert.ok(held!.sealed_for_sender, 'the sender-sealed copy lets the human read what they approve');
  assert.match(held!.reasons.join(), /^client: privatekey/);
  const stored = await t.sql('SELECT input FROM held_messages WHERE id = ?', held!.id);
  assert.doesNotMatch(String(stored[0]!.input), /PRIVATE KEY/, 'the plaintext never reached the server');
  assert.equal((await bob!.get('/api/inbox')).body.messages.length, 0, 'not delivered while held');

  assert.match(await as('alice', 'held', 'approve', held!.id), new RegExp(`Approved: 202 queued · ${held!.id}`));
  const inbox = await as('bob', 'inbox', '--unread');
  assert.match(inbox, new RegExp(`── ${held!.id} · thread thr_[0-9a-f]{32} · from guard-alice .* signature: verified · sealed`));
  assert.match(inbox, /BEGIN RSA PRIVATE KEY/);
});
