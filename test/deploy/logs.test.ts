/**
 * `amtp serve` as an operator runs it: stdout carries JSON log lines only (for a log shipper), the
 * human banner goes to stderr, and each request — streams and /mcp included — logs exactly one line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStream } from '../helpers/sse.js';
import { CLI } from '../helpers/cli.js';

test('amtp serve: JSON-only stdout, banner on stderr, one log line per request', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'amtp-logs-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AMTP_') && k !== 'DATABASE_URL'));
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    env: { ...inherited, AMTP_PORT: '0', AMTP_DATA_DIR: dataDir, AMTP_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  try {
    let started = false;
    const exitedEarly = once(child, 'exit').then(() => {
      if (!started) throw new Error(`serve exited: ${stderr}`);
    });
    exitedEarly.catch(() => undefined); // observed by the race below
    while (!/listening on (http:\/\/\S+)/.test(stderr)) await Promise.race([once(child.stderr, 'data'), exitedEarly]);
    started = true;
    const url = /listening on (http:\/\/\S+)/.exec(stderr)![1]!;

    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    const reg = await fetch(`${url}/api/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'logger' }),
    });
    const { api_key: key } = (await reg.json()) as { api_key: string };
    assert.equal((await fetch(`${url}/api/nowhere`)).status, 404);
    const mcp = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    assert.equal(mcp.status, 200);
    await mcp.text();
    const stream = await openStream(url, key);
    assert.equal(stream.status, 200);
    stream.close();
    const requests = 5;

    // The stream's line is written when its connection closes; wait for it before stopping.
    const accessLines = () => stdout.split('\n').filter((l) => l.includes('"request completed"') || l.includes('"request aborted"'));
    for (let i = 0; i < 100 && accessLines().length < requests; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    await once(child, 'exit');

    const lines = stdout.split('\n').filter(Boolean);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON on stdout: ${line}`);
    assert.match(stderr, /REST API .*\/api/);
    assert.doesNotMatch(stdout, /REST API|listening on/);

    const access = lines.map((l) => JSON.parse(l)).filter((e) => e.req && e.res);
    assert.deepEqual(access.map((e) => `${e.req.method} ${e.req.url} ${e.res.statusCode}`).sort(), [
      'GET /api/inbox/stream 200',
      'GET /api/nowhere 404',
      'GET /healthz 200',
      'POST /api/register 201',
      'POST /mcp 200',
    ]);
    assert.equal(new Set(access.map((e) => e.reqId)).size, requests, 'one line per request');
    for (const e of access) {
      assert.equal(typeof e.responseTime, 'number');
      assert.equal(e.req.remoteAddress, '127.0.0.1');
    }
    assert.equal(lines.filter((l) => l.includes('incoming request')).length, 0);
    assert.doesNotMatch(stdout, new RegExp(key), 'no API key in the logs');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
