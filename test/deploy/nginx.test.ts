/**
 * Debian's nginx with the documented configuration (docs/nginx/amtp.conf, included verbatim in
 * docs/REVERSE-PROXY.md) in front of a real server, on loopback and unprivileged ports: REST, a
 * long-poll, SSE with reconnect (Last-Event-ID) and /mcp through it; forged X-Forwarded-For entries
 * do not escape the per-address limits; /metrics is refused to outsiders.
 * Only the listen/TLS lines and the upstream port are rewritten for the test; everything else runs as shipped.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mcpClient } from '../helpers/mcp.js';
import { openStream } from '../helpers/sse.js';
import { client, connect, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

const root = new URL('../../', import.meta.url).pathname;
const CONF = join(root, 'docs/nginx/amtp.conf');

function nginxBinary(): string | null {
  if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx';
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  return found || null;
}

const nginx = nginxBinary();
let skip: string | undefined;
if (!nginx) {
  const reason = 'nginx is not installed (scripts/ensure-nginx.sh installs Debian\'s package)';
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}; the reverse-proxy test must run`);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPING the nginx reverse-proxy test: ${reason}\n${'!'.repeat(100)}\n`);
  skip = reason;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The shipped file with its public listeners, certificates and upstream pointed at the test's ports. */
function testConfig(upstreamPort: number, port: number, redirectPort: number): string {
  let conf = readFileSync(CONF, 'utf8');
  const replace = (from: RegExp, to: string) => {
    const count = (conf.match(new RegExp(from.source, 'gm')) ?? []).length;
    assert.ok(count > 0, `docs/nginx/amtp.conf no longer contains ${from}: update this test with the doc`);
    conf = conf.replace(new RegExp(from.source, 'gm'), to);
  };
  replace(/^(\s+)server 127\.0\.0\.1:8787;$/, `$1server 127.0.0.1:${upstreamPort};`);
  replace(/^(\s+)listen 80;$/, `$1listen 127.0.0.1:${redirectPort};`);
  replace(/^(\s+)listen 443 ssl;$/, `$1listen 127.0.0.1:${port};`);
  replace(/^\s+listen \[::\]:\d+( ssl)?;\n/, '');
  replace(/^\s+ssl_certificate(_key)? .*\n/, '');
  return conf;
}

describe('nginx with docs/nginx/amtp.conf in front of the server', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'amtp-nginx-'));
  let t: TestServer;
  let proxy: ChildProcess;
  let base: string;
  let stderr = '';
  const agents: TestAgent[] = [];

  before(async () => {
    const [port, redirectPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    t = await startServer({ AMTP_PUBLIC_URL: base, AMTP_TRUST_PROXY: '127.0.0.1', AMTP_RATE_REGISTER_PER_HOUR: '2' });
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        ...(process.getuid?.() === 0 ? ['user root;'] : []),
        'daemon off;',
        'worker_processes 1;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log warn;`,
        'events { worker_connections 256; }',
        'http {',
        `  access_log ${dir}/access.log;`,
        ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((d) => `  ${d === 'body' ? 'client_body' : d}_temp_path ${dir}/${d};`),
        // As an operator might have it globally: the stream location must still turn compression off.
        '  gzip on; gzip_types text/event-stream application/json;',
        testConfig(new URL(t.url).port as unknown as number, port, redirectPort),
        '}',
      ].join('\n'),
    );
    const check = spawnSync(nginx!, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    proxy = spawn(nginx!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    proxy.stderr!.on('data', (d) => (stderr += d));
    for (let i = 0; ; i++) {
      const up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (up) break;
      if (i > 100 || proxy.exitCode !== null) assert.fail(`nginx did not come up: ${stderr}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    proxy?.kill('SIGTERM'); // fast shutdown: a graceful one would wait for open streams
    if (proxy && proxy.exitCode === null) await new Promise((r) => proxy.once('exit', r));
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('REST through the proxy; a forged X-Forwarded-For is overwritten, so the registration limit holds', async () => {
    const anonymous = client(base);
    for (const forged of ['198.51.100.1', '198.51.100.2']) {
      const res = await anonymous.post('/api/register', { name: `via-nginx-${agents.length}` }, { 'x-forwarded-for': forged });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      agents.push({ id: res.body.agent_id, name: `via-nginx-${agents.length}`, key: res.body.api_key, api: client(base, res.body.api_key) });
    }
    const third = await anonymous.post('/api/register', { name: 'via-nginx-3' }, { 'x-forwarded-for': '198.51.100.3' });
    assert.equal(third.status, 429, 'every client behind this proxy came from 127.0.0.1, whatever it claimed');
    const [a, b] = agents as [TestAgent, TestAgent];
    await connect(a, b);
    const sent = await a.api.post('/api/messages', { recipient_id: b.id, body: 'through nginx' });
    assert.equal(sent.status, 202);
    const inbox = await b.api.get('/api/inbox');
    assert.equal(inbox.body.messages[0].body, 'through nginx');
  });

  test('a long-poll waits through the proxy and wakes with the message', async () => {
    const [a, b] = agents as [TestAgent, TestAgent];
    assert.equal((await b.api.post('/api/inbox/read')).status, 200);
    const poll = b.api.get('/api/inbox?unread_only=true&wait=20');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body: 'wake up' })).status, 202);
    const woke = await poll;
    assert.equal(woke.status, 200);
    assert.deepEqual(woke.body.messages.map((m: { body: string }) => m.body), ['wake up']);
  });

  test('SSE through the proxy: events arrive unbuffered and uncompressed; a reconnect with Last-Event-ID resumes exactly', async () => {
    const [a, b] = agents as [TestAgent, TestAgent];
    const stream = await openStream(base, b.key);
    let first;
    try {
      assert.equal(stream.status, 200);
      assert.equal(stream.response.headers.get('content-encoding'), null);
      assert.match(stream.response.headers.get('content-type') ?? '', /^text\/event-stream/);
      await a.api.post('/api/messages', { recipient_id: b.id, body: 'live 1' });
      first = await stream.next(10_000);
      assert.equal(first.data.data.message.body, 'live 1');
    } finally {
      stream.close();
    }

    for (const body of ['missed 1', 'missed 2']) await a.api.post('/api/messages', { recipient_id: b.id, body });
    const resumed = await openStream(base, b.key, first.id);
    try {
      const bodies = [(await resumed.next(10_000)).data.data.message.body, (await resumed.next(10_000)).data.data.message.body];
      assert.deepEqual(bodies, ['missed 1', 'missed 2']);
    } finally {
      resumed.close();
    }
  });

  test('/mcp through the proxy: the original Host passes the DNS-rebinding check; tools work', async () => {
    const [a] = agents as [TestAgent];
    const mcp = await mcpClient(base, a.key);
    try {
      const { tools } = await mcp.client.listTools();
      assert.ok(tools.some((tool) => tool.name === 'a2a_whoami'));
      const me = await mcp.call('a2a_whoami');
      assert.equal(me.isError, undefined, me.text);
      assert.match(me.text, new RegExp(a.id));
    } finally {
      await mcp.close();
    }
  });

  test('/metrics is refused through the proxy and served directly', async () => {
    assert.equal((await fetch(`${base}/metrics`)).status, 403);
    assert.equal((await fetch(`${t.url}/metrics`)).status, 200);
  });
});

test('docs/REVERSE-PROXY.md shows the shipped nginx and Caddy files verbatim', () => {
  const doc = readFileSync(join(root, 'docs/REVERSE-PROXY.md'), 'utf8');
  const block = (lang: string) => new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(doc)?.[1];
  assert.equal(block('nginx'), readFileSync(CONF, 'utf8'), 'regenerate the nginx block from docs/nginx/amtp.conf');
  assert.equal(block('caddy'), readFileSync(join(root, 'docs/caddy/Caddyfile'), 'utf8'), 'regenerate the Caddy block from docs/caddy/Caddyfile');
});
