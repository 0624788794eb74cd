/**
 * Debian's nginx and Caddy with the documented configurations (docs/nginx/amtp.conf and
 * docs/caddy/Caddyfile, included verbatim in docs/REVERSE-PROXY.md) in front of a real server, on
 * loopback and unprivileged ports: REST, a long-poll, SSE with reconnect (Last-Event-ID) and /mcp
 * through each; forged X-Forwarded-For entries do not escape the per-address limits; /metrics is
 * refused to outsiders. Only the listen/TLS lines (site address for Caddy) and the upstream port are
 * rewritten for the test; everything else runs as shipped.
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

/** The tool's path, or null after a loud warning (or, under CI=true, an error). */
function requireTool(name: string, path: string, script: string): string | null {
  const found = existsSync(path) ? path : spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  const reason = `${name} is not installed (scripts/${script} installs Debian's package)`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}; the reverse-proxy tests must run`);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPING the ${name} reverse-proxy test: ${reason}\n${'!'.repeat(100)}\n`);
  return null;
}

const nginx = requireTool('nginx', '/usr/sbin/nginx', 'ensure-proxies.sh');
const caddy = requireTool('caddy', '/usr/bin/caddy', 'ensure-proxies.sh');

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

/** The shipped nginx file with its public listeners, certificates and upstream pointed at the test's ports. */
function nginxConfig(upstreamPort: number, port: number, redirectPort: number): string {
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

interface RunningProxy {
  process: ChildProcess;
  /** What the proxy said, for a failure message. */
  log(): string;
}

/** The same drive through any proxy: `start` runs it with its documented file on `port`, in front of `upstreamPort`. */
function proxySuite(
  name: string,
  binary: string | null,
  file: string,
  start: (binary: string, dir: string, upstreamPort: number, port: number) => Promise<RunningProxy>,
) {
  describe(`${name} with ${file} in front of the server`, { skip: !binary && `${name} missing` }, () => {
    const dir = mkdtempSync(join(tmpdir(), `amtp-${name}-`));
    let t: TestServer;
    let proxy: RunningProxy;
    let base: string;
    const agents: TestAgent[] = [];

    before(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      t = await startServer({ AMTP_PUBLIC_URL: base, AMTP_TRUST_PROXY: '127.0.0.1', AMTP_RATE_REGISTER_PER_HOUR: '2' });
      proxy = await start(binary!, dir, Number(new URL(t.url).port), port);
      for (let i = 0; ; i++) {
        const up = await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) break;
        if (i > 200 || proxy.process.exitCode !== null) assert.fail(`${name} did not come up: ${proxy.log()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    after(async () => {
      proxy?.process.kill('SIGTERM'); // fast shutdown: a graceful one would wait for open streams
      if (proxy && proxy.process.exitCode === null) await new Promise((r) => proxy.process.once('exit', r));
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('REST through the proxy; a forged X-Forwarded-For is overwritten, so the registration limit holds', async () => {
      const anonymous = client(base);
      for (const forged of ['198.51.100.1', '198.51.100.2']) {
        const res = await anonymous.post('/api/register', { name: `via-${name}-${agents.length}` }, { 'x-forwarded-for': forged });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        agents.push({
          id: res.body.agent_id,
          name: `via-${name}-${agents.length}`,
          key: res.body.api_key,
          api: client(base, res.body.api_key),
        });
      }
      const third = await anonymous.post('/api/register', { name: `via-${name}-3` }, { 'x-forwarded-for': '198.51.100.3' });
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
      assert.deepEqual(
        woke.body.messages.map((m: { body: string }) => m.body),
        ['wake up'],
      );
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
}

async function startNginx(binary: string, dir: string, upstreamPort: number, port: number): Promise<RunningProxy> {
  const redirectPort = await freePort();
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${dir}/access.log;`,
      ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((d) => `  ${d === 'body' ? 'client_body' : d}_temp_path ${dir}/${d};`),
      // As an operator might have it globally: the stream location must still turn compression off.
      '  gzip on; gzip_types text/event-stream application/json;',
      nginxConfig(upstreamPort, port, redirectPort),
      '}',
    ].join('\n'),
  );
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
  const check = spawnSync(binary, ['-t', ...args], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  const child = spawn(binary, args, { stdio: 'ignore' });
  return { process: child, log: () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '') };
}

/** The shipped Caddyfile served as plain HTTP on the test port, in front of the test server. */
async function startCaddy(binary: string, dir: string, upstreamPort: number, port: number): Promise<RunningProxy> {
  let conf = readFileSync(join(root, 'docs/caddy/Caddyfile'), 'utf8');
  for (const [from, to] of [
    [/^mail\.example\.org \{$/m, `http://127.0.0.1:${port} {`],
    [/reverse_proxy 127\.0\.0\.1:8787 \{/, `reverse_proxy 127.0.0.1:${upstreamPort} {`],
  ] as const) {
    assert.match(conf, from, `docs/caddy/Caddyfile no longer contains ${from}: update this test with the doc`);
    conf = conf.replace(from, to);
  }
  writeFileSync(join(dir, 'Caddyfile'), `{\n\tadmin off\n\tauto_https off\n\tgrace_period 1s\n}\n\n${conf}`);
  let output = '';
  const child = spawn(binary, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return { process: child, log: () => output };
}

proxySuite('nginx', nginx, 'docs/nginx/amtp.conf', startNginx);
proxySuite('caddy', caddy, 'docs/caddy/Caddyfile', startCaddy);

test('docs/REVERSE-PROXY.md shows the shipped nginx and Caddy files verbatim', () => {
  const doc = readFileSync(join(root, 'docs/REVERSE-PROXY.md'), 'utf8');
  const block = (lang: string) => new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(doc)?.[1];
  assert.equal(block('nginx'), readFileSync(CONF, 'utf8'), 'regenerate the nginx block from docs/nginx/amtp.conf');
  assert.equal(
    block('caddy'),
    readFileSync(join(root, 'docs/caddy/Caddyfile'), 'utf8'),
    'regenerate the Caddy block from docs/caddy/Caddyfile',
  );
});
