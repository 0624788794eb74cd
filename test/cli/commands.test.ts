/**
 * The `amtp` client as a person uses it in a terminal: two separate homes (AMTP_CONFIG_DIR), a real
 * server, help and exit codes, every command, sealing that is never silent, and input errors that
 * say what to write.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { amtp, type CliResult } from '../helpers/cli.js';
import { register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

const CLIENT_COMMANDS = [
  'register',
  'whoami',
  'request',
  'requests',
  'approve',
  'decline',
  'revoke',
  'unblock',
  'peers',
  'send',
  'send-a2a',
  'reply',
  'inbox',
  'outbox',
  'read',
  'thread',
  'status',
  'capabilities',
  'keys',
  'mcp',
  'digest',
  'ack',
];
const SERVER_COMMANDS = ['serve', 'invite', 'export', 'import', 'backup'];
const REQUEST_CAP = 16 * 1024;

const balancedQuotes = (text: string) => (text.match(/"/g)?.length ?? 0) % 2 === 0 && (text.match(/'/g)?.length ?? 0) % 2 === 0;

describe('amtp help, usage and exit codes', () => {
  test('--version; no arguments is a usage error; help exits 0', async () => {
    const [version, bare, help] = await Promise.all([amtp(['--version'], {}), amtp([], {}), amtp(['--help'], {})]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^amtp-mailbox \d+\.\d+\.\d+\n$/);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^Usage: amtp <command>/);
    assert.equal(help.code, 0);
    for (const c of [...CLIENT_COMMANDS, ...SERVER_COMMANDS]) assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'), c);
    assert.match(help.stdout, /AMTP_CONFIG_DIR/);
  });

  test('every command has its own --help, exits 0 and does nothing else', async () => {
    const all = [...CLIENT_COMMANDS, ...SERVER_COMMANDS];
    const results = await Promise.all(all.map((c) => amtp([c, '--help'], { AMTP_CONFIG_DIR: '/nonexistent' })));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `${all[i]}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: amtp ${all[i]}\\b`), all[i]);
      assert.doesNotMatch(r.stdout, /listening/);
    });
  });

  test('an unknown option: one clear line, then the command usage; exit 2', async () => {
    const results: [string, CliResult][] = [
      ['inbox', await amtp(['inbox', '--bogus'], {})],
      ['send', await amtp(['send', 'bob', 'hi', '--unread'], {})],
      ['serve', await amtp(['serve', '--port', '1'], {})],
    ];
    for (const [command, r] of results) {
      assert.equal(r.code, 2, command);
      const [first, second] = r.stderr.split('\n');
      assert.match(first!, new RegExp(`^amtp ${command}: unknown option --(bogus|unread|port)$`));
      assert.match(second!, new RegExp(`^Usage: amtp ${command}\\b`));
      assert.ok(balancedQuotes(r.stderr), r.stderr);
    }
    const unknown = await amtp(['frobnicate'], {});
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^amtp: unknown command "frobnicate"\. Run "amtp --help"/);
    const leading = await amtp(['--bogus'], {});
    assert.equal(leading.code, 2);
    assert.match(leading.stderr, /^amtp: unknown option --bogus \(options follow the command\)\./);
  });
});

describe('amtp with two homes against a real server', () => {
  let t: TestServer;
  const homes = { alice: '', bob: '' };
  let carol: TestAgent;
  let dave: TestAgent;
  const as = (who: keyof typeof homes, ...args: string[]) => amtp(args, { AMTP_CONFIG_DIR: homes[who] });

  before(async () => {
    t = await startServer({ AMTP_MAX_REQUEST_BYTES: String(REQUEST_CAP) });
    homes.alice = mkdtempSync(join(tmpdir(), 'amtp-home-a-'));
    homes.bob = mkdtempSync(join(tmpdir(), 'amtp-home-b-'));
    carol = await register(t.url, 'cli-carol'); // registered without keys, as over /mcp
    dave = await register(t.url, 'cli-dave');
  });
  after(async () => {
    await t.close();
    for (const d of Object.values(homes)) rmSync(d, { recursive: true, force: true });
  });

  test('--server: a missing scheme says what to write; a trailing /api is understood', async () => {
    const host = new URL(t.url).host;
    const bare = await as('alice', 'register', 'cli-alice', '--server', host);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, new RegExp(`--server needs a URL with its scheme: write --server http://${host.replace(/\./g, '\\.')}`));
    const withApi = await as('alice', 'register', 'cli-alice', '--server', `${t.url}/api`);
    assert.equal(withApi.code, 0, withApi.stderr);
    const bob = await as('bob', 'register', 'cli-bob', '--server', t.url);
    assert.equal(bob.code, 0, bob.stderr);
    const who = await as('alice', 'whoami');
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^cli-alice \(a2a_[0-9a-f]{32}\)/);
    const unreachable = await as('alice', 'whoami', '--server', 'http://127.0.0.1:9');
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /^amtp: network_error: /);
  });

  test('connect, send sealed and signed, inbox with thread ids, reply in the thread, outbox', async () => {
    const req = await as('alice', 'request', 'cli-bob', '--note', 'lunch?');
    assert.equal(req.code, 0, req.stderr);
    const pending = JSON.parse((await as('bob', 'requests', '--incoming', '--json')).stdout);
    assert.equal((await as('bob', 'approve', pending[0].id)).code, 0);

    const sent = await as('alice', 'send', 'cli-bob', 'thursday', 'at', 'noon?', '--subject', 'lunch');
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^202 queued · (msg_[0-9a-f]{32}) · thread (thr_[0-9a-f]{32}) · sealed end to end, signed$/m);
    const [, id, thread] = /(msg_[0-9a-f]{32}) · thread (thr_[0-9a-f]{32})/.exec(sent.stdout)!;

    const inbox = await as('bob', 'inbox', '--unread');
    assert.equal(inbox.code, 0, inbox.stderr);
    assert.match(inbox.stdout, new RegExp(`── ${id} · thread ${thread} · from cli-alice .* signature: verified · sealed`));
    assert.match(inbox.stdout, /thursday at noon\?/);

    const reply = await as('bob', 'reply', id!, 'noon', 'works');
    assert.equal(reply.code, 0, reply.stderr);
    assert.match(reply.stdout, new RegExp(`202 queued · msg_[0-9a-f]{32} · thread ${thread} · sealed end to end, signed`));
    const threadView = JSON.parse((await as('alice', 'thread', thread!, '--json')).stdout);
    assert.deepEqual(
      threadView.messages.map((m: any) => m.body),
      ['thursday at noon?', 'noon works'],
    );
    assert.equal(threadView.messages[1].subject, 'Re: lunch');

    const outbox = await as('alice', 'outbox');
    assert.equal(outbox.code, 0, outbox.stderr);
    assert.match(outbox.stdout, new RegExp(`── ${id} · thread ${thread} · to cli-bob .* · sealed · (delivered|read) · sent by you`));
    assert.doesNotMatch(outbox.stdout, /untrusted/);
  });

  test('sealing is never silent: plain text only with --plain, and the send says so', async () => {
    await carol.api.post('/api/contact-requests', { agent_id: 'cli-alice' });
    const pending = JSON.parse((await as('alice', 'requests', '--incoming', '--json')).stdout);
    assert.equal((await as('alice', 'approve', pending.find((r: any) => r.from_name === 'cli-carol').id)).code, 0);

    const refused = await as('alice', 'send', 'cli-carol', 'the secret plan');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /cli-carol publishes no encryption key.*--plain/);
    assert.equal((await carol.api.get('/api/inbox')).body.messages.length, 0, 'nothing was sent');

    const plain = await as('alice', 'send', 'cli-carol', 'not so secret', '--plain');
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /202 queued · msg_\w+ · thread thr_\w+ · NOT sealed \(plain text: the server can read it\), signed/);
    assert.equal((await carol.api.get('/api/inbox')).body.messages[0].body, 'not so secret');
  });

  test('sizes: the plaintext ceiling before sealing; the request cap named', async () => {
    const big = await as('alice', 'send', 'cli-bob', 'x'.repeat(60_000));
    assert.equal(big.code, 1);
    assert.match(
      big.stderr,
      /^amtp: too_large: The message is 600\d\d bytes; sealed messages on this server hold at most 49121 bytes of content/,
    );
    const overCap = await as('alice', 'send', 'cli-carol', 'y'.repeat(REQUEST_CAP + 1000), '--plain');
    assert.equal(overCap.code, 1);
    assert.match(overCap.stderr, new RegExp(`too_large: .*\\(${REQUEST_CAP} bytes\\)`));
  });

  test('input errors name the flag; refusals agree with the REST API', async () => {
    const payload = await as('alice', 'send', 'cli-bob', 'hi', '--payload', '{bad');
    assert.equal(payload.code, 2);
    assert.match(payload.stderr, /^--payload is not valid JSON: /);
    const missing = await as('alice', 'read');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^amtp read: missing <message_id> or --all\nUsage: amtp read/);

    const nobody = await as('alice', 'send', 'cli-nobody', 'hi');
    const rest = await carol.api.post('/api/messages', { recipient_id: 'cli-nobody', body: 'hi' });
    assert.equal(nobody.code, 1);
    assert.equal(
      nobody.stderr,
      `amtp: not_authorized: ${rest.body.error.message}\n`,
      'the CLI refuses an unknown name exactly as REST does',
    );
  });

  test('decline then unblock; revoke, and the revoker is told how to restore it', async () => {
    const req = await dave.api.post('/api/contact-requests', { agent_id: 'cli-bob' });
    const declined = await as('bob', 'decline', req.body.id);
    assert.equal(declined.code, 0, declined.stderr);
    assert.match(declined.stdout, /amtp unblock cli-dave/);
    const toBlocked = await as('bob', 'send', 'cli-dave', 'hi', '--plain');
    assert.equal(toBlocked.code, 1);
    assert.match(toBlocked.stderr, /not_authorized: You blocked cli-dave\. Unblock them/, 'the blocker is told what it did');
    const unblocked = await as('bob', 'unblock', 'cli-dave');
    assert.equal(unblocked.code, 0, unblocked.stderr);
    assert.match(unblocked.stdout, /^Unblocked cli-dave\./);
    assert.equal((await dave.api.post('/api/contact-requests', { agent_id: 'cli-bob' })).status, 201, 'dave may ask again');

    assert.equal((await as('bob', 'revoke', 'cli-alice')).code, 0);
    const revoker = await as('bob', 'send', 'cli-alice', 'hello?');
    assert.equal(revoker.code, 1);
    assert.match(revoker.stderr, /not_authorized: You revoked cli-alice .*a2a_authorize_agent/);
  });
});
