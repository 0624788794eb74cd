/**
 * Client addresses behind a reverse proxy cannot be forged, and a server reachable beyond loopback
 * refuses to start without knowing its own host name (DNS-rebinding protection for /mcp).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../helpers/server.js';

function post(url: string, path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

let n = 0;
const register = (url: string, forwardedFor: string) =>
  post(url, '/api/register', { name: `fwd-${process.pid}-${++n}` }, { 'x-forwarded-for': forwardedFor });

for (const trust of ['127.0.0.1', '1', 'loopback']) {
  test(`AMTP_TRUST_PROXY=${trust}: a forged X-Forwarded-For entry does not escape the per-address limit`, async () => {
    const t = await startServer({ AMTP_TRUST_PROXY: trust, AMTP_RATE_REGISTER_PER_HOUR: '1' });
    try {
      // As a proxy on 127.0.0.1 forwards them: the client's own (forged) entries, then the address it saw.
      const statuses = [];
      for (const forged of ['198.51.100.1', '198.51.100.2', '10.9.8.7, 198.51.100.3'])
        statuses.push((await register(t.url, `${forged}, 203.0.113.7`)).status);
      assert.deepEqual(statuses, [201, 429, 429]);
      // The limit is per real address: another client behind the same proxy still registers.
      assert.equal((await register(t.url, '203.0.113.8')).status, 201);
    } finally {
      await t.close();
    }
  });
}

test('AMTP_TRUST_PROXY=false ignores X-Forwarded-For altogether', async () => {
  const t = await startServer({ AMTP_RATE_REGISTER_PER_HOUR: '1' });
  try {
    assert.equal((await register(t.url, '203.0.113.7')).status, 201);
    assert.equal((await register(t.url, '203.0.113.8')).status, 429);
  } finally {
    await t.close();
  }
});

test('AMTP_TRUST_PROXY refuses "true" (trust everything) and anything but hops, addresses and CIDRs', () => {
  assert.throws(() => loadConfig({ AMTP_TRUST_PROXY: 'true' }), /forge.*AMTP_TRUST_PROXY=1/s);
  assert.throws(() => loadConfig({ AMTP_TRUST_PROXY: '10.0.0.0/33' }), /not a hop count, an IP address or a CIDR/);
  assert.throws(() => loadConfig({ AMTP_TRUST_PROXY: 'proxy.example.org' }), /AMTP_TRUST_PROXY/);
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ AMTP_TRUST_PROXY: '2' }).trustProxy, 2);
  assert.deepEqual(loadConfig({ AMTP_TRUST_PROXY: '10.0.0.0/8, fd00::/8,192.0.2.1' }).trustProxy, ['10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
});

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const mcpWithHost = (url: string, host: string) => post(url, '/mcp', initialize, { host });

test('a non-loopback bind without AMTP_PUBLIC_URL refuses to start, saying what to set', async () => {
  await assert.rejects(
    startServer({ AMTP_HOST: '0.0.0.0' }),
    /Refusing to start: AMTP_HOST=0\.0\.0\.0.*AMTP_PUBLIC_URL.*AMTP_MCP_ALLOWED_HOSTS=\*/s,
  );
  await assert.rejects(startServer({ AMTP_HOST: '::' }), /Refusing to start/);
});

test('a non-loopback bind with AMTP_PUBLIC_URL answers /mcp for that host only', async () => {
  const t = await startServer({ AMTP_HOST: '0.0.0.0', AMTP_PUBLIC_URL: 'https://mail.example.test' });
  try {
    const url = t.url.replace('0.0.0.0', '127.0.0.1');
    assert.equal((await mcpWithHost(url, 'mail.example.test')).status, 200);
    const refused = await mcpWithHost(url, 'rebound.attacker.test');
    assert.equal(refused.status, 403);
    assert.match(refused.text, /not served here/);
    assert.equal((await mcpWithHost(url, new URL(url).host)).status, 403, 'loopback names are not special on a public bind');
  } finally {
    await t.close();
  }
});

test('AMTP_MCP_ALLOWED_HOSTS=* is the explicit way to accept any Host on a public bind', async () => {
  const t = await startServer({ AMTP_HOST: '0.0.0.0', AMTP_MCP_ALLOWED_HOSTS: '*' });
  try {
    assert.equal((await mcpWithHost(t.url.replace('0.0.0.0', '127.0.0.1'), 'anything.example.test')).status, 200);
  } finally {
    await t.close();
  }
});

test('a loopback bind needs no public URL and answers loopback names only', async () => {
  const t = await startServer({});
  try {
    assert.equal((await mcpWithHost(t.url, new URL(t.url).host)).status, 200);
    assert.equal((await mcpWithHost(t.url, 'rebound.attacker.test')).status, 403);
  } finally {
    await t.close();
  }
});
