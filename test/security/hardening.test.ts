/**
 * Regressions from the independent review (issue 12), through the real HTTP and MCP interfaces, on
 * the backend under test: hostile JSON (depth, NUL, lone surrogates, huge numbers), key rotation
 * ending open streams and long-polls, long-polls that wait for mail only, the /mcp origin and batches.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyDeliveryMac } from '../../src/crypto/hmac.js';
import { amtp } from '../helpers/cli.js';
import { mcpClient } from '../helpers/mcp.js';
import { client, connect, register, startServer, untilWaiting, type TestAgent, type TestServer } from '../helpers/server.js';
import { openStream } from '../helpers/sse.js';

/** `{"a":{"a":…1…}}`, `levels` objects deep, built as text (no recursion here either). */
const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const deepArray = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe('hardening: hostile input and revoked keys', () => {
  let t: TestServer;
  let a: TestAgent;
  let b: TestAgent;
  before(async () => {
    t = await startServer({ AMTP_STREAM_HEARTBEAT_SECONDS: '1' });
    [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
  });
  after(() => t.close());

  const raw = (agent: TestAgent, method: string, path: string, text: string) => agent.api.call(method, path, text);
  const stillServing = async () => {
    assert.equal((await client(t.url).get('/healthz')).status, 200, 'the process is still up');
    for (const path of ['/api/inbox', '/api/outbox', '/api/conversations', `/api/agents/${a.id}/capabilities`]) {
      assert.equal((await a.api.get(path)).status, 200, `${path} still answers`);
      assert.equal((await b.api.get(path)).status, 200, `${path} still answers`);
    }
  };

  test('deeply nested JSON is refused with 400 naming the limit, on every JSON-taking route; the server keeps serving', async () => {
    for (const levels of [65, 2_000, 3_800, 4_400, 10_000]) {
      const capabilities = await raw(
        a,
        'PUT',
        '/api/me/capabilities',
        `{"capabilities":[{"id":"deep","title":"Deep","input_schema":{"type":"object","default":${deepObject(levels)}}}]}`,
      );
      assert.equal(capabilities.status, 400, `capabilities at ${levels}`);
      assert.equal(capabilities.body.error.code, 'invalid_request');
      assert.match(capabilities.body.error.message, /deeper than 64 levels/);
      const message = await raw(a, 'POST', '/api/messages', `{"recipient_id":"${b.id}","body":"x","payload":${deepObject(levels)}}`);
      assert.equal(message.status, 400, `payload at ${levels}`);
      assert.match(message.body.error.message, /payload\.a.*deeper than 64 levels/);
      const array = await raw(a, 'POST', '/api/contact-requests', deepArray(levels));
      assert.equal(array.status, 400);
      assert.equal(array.body.error.code, 'invalid_request');
    }
    await stillServing();
  });

  test('the depth limit counts from the body root: 64 levels are accepted and read back, 65 are not', async () => {
    // body (1) → payload (2) → 62 more levels of {"a":…} = 64.
    const ok = await raw(a, 'POST', '/api/messages', `{"recipient_id":"${b.id}","body":"deep but legal","payload":${deepObject(63)}}`);
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const over = await raw(a, 'POST', '/api/messages', `{"recipient_id":"${b.id}","body":"too deep","payload":${deepObject(64)}}`);
    assert.equal(over.status, 400);
    const read = await b.api.get(`/api/messages/${ok.body.id}`);
    assert.equal(read.status, 200);
    assert.equal(JSON.stringify(read.body.payload), deepObject(63));
    await stillServing();
  });

  test('MCP a2a_send_message with a deep payload gets a readable JSON-RPC error; the server keeps serving', async () => {
    const mcp = await mcpClient(t.url, a.key);
    try {
      await mcp.client.listTools();
      // Tool arguments count from their own root, as a REST body does: 64 levels pass, 65 are refused
      // before the SDK walks them, as a JSON-RPC error that names the limit.
      const legal = await mcp.call('a2a_send_message', { recipient_id: b.id, body: 'x', payload: JSON.parse(deepObject(63)) });
      assert.equal(legal.isError ?? false, false, legal.text);
      for (const levels of [64, 3_000]) {
        await assert.rejects(
          mcp.call('a2a_send_message', { recipient_id: b.id, body: 'x', payload: JSON.parse(deepObject(levels)) }),
          /payload\.a.* deeper than 64 levels/,
        );
      }
      // Text that breaks the input rule is a tool error with the REST code.
      for (const body of ['nul \u0000', 'lone \ud800']) {
        const refused = await mcp.call('a2a_send_message', { recipient_id: b.id, body });
        assert.equal(refused.isError, true);
        assert.match(refused.text, /^Error invalid_request: Invalid arguments: body (contains U\+0000|is not well-formed Unicode)/);
      }
      const plain = await mcp.call('a2a_send_message', { recipient_id: b.id, body: 'after the refusal' });
      assert.equal(plain.isError ?? false, false, plain.text);
    } finally {
      await mcp.close();
    }
    await stillServing();
  });

  test('NUL in any text field is refused with 400 naming the field, on every backend', async () => {
    const nul = 'a\u0000b';
    const cases: [string, Promise<{ status: number; body: any }>, RegExp][] = [
      ['body', a.api.post('/api/messages', { recipient_id: b.id, body: nul }), /body/],
      ['subject', a.api.post('/api/messages', { recipient_id: b.id, body: 'x', subject: nul }), /subject/],
      ['payload value', a.api.post('/api/messages', { recipient_id: b.id, body: 'x', payload: { k: nul } }), /payload\.k/],
      ['payload key', a.api.post('/api/messages', { recipient_id: b.id, body: 'x', payload: { [nul]: 1 } }), /payload/],
      ['display name', client(t.url).post('/api/register', { name: `nul-${process.pid}`, display_name: nul }), /display_name/],
      ['note', (await register(t.url)).api.post('/api/contact-requests', { agent_id: b.id, note: nul }), /note/],
      ['capability title', a.api.put('/api/me/capabilities', { capabilities: [{ id: 'x', title: nul }] }), /capabilities\[0\]\.title/],
      ['query', a.api.get('/api/inbox?cursor=%00'), /cursor/],
    ];
    for (const [field, reply, path] of cases) {
      const res = await reply;
      assert.equal(res.status, 400, `${field}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid_request', field);
      assert.match(res.body.error.message, /U\+0000/, field);
      assert.match(res.body.error.issues[0].path, path, field);
    }
    await stillServing();
  });

  test('lone surrogates are refused before the signature check, never rewritten', async () => {
    for (const text of ['\\ud800', 'x\\udfffy', '\\udc00\\ud800']) {
      const res = await raw(
        a,
        'POST',
        '/api/messages',
        `{"recipient_id":"${b.id}","body":"${text}","ed25519_signature":"AAAA","sig_nonce":"nonce-123456","signed_at":"${new Date().toISOString()}"}`,
      );
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'invalid_request', 'not invalid_signature: the input rule comes first');
      assert.match(res.body.error.message, /body is not well-formed Unicode/);
    }
    // A well-formed astral character is fine, byte for byte.
    const ok = await a.api.post('/api/messages', { recipient_id: b.id, body: 'ok \u{1F600} \uFFFF' });
    assert.equal(ok.status, 202);
    assert.equal((await b.api.get(`/api/messages/${ok.body.id}`)).body.body, 'ok \u{1F600} \uFFFF');
  });

  test('numbers beyond double precision are refused, not turned into null', async () => {
    const res = await raw(a, 'POST', '/api/messages', `{"recipient_id":"${b.id}","body":"x","payload":{"n":1e400}}`);
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /payload\.n is a number too large/);
  });

  test('a long-poll waits for mail: other events (an approval) do not end it', { timeout: 30_000 }, async () => {
    const [c, d] = [await register(t.url), await register(t.url)];
    await connect(c, d);
    const request = await c.api.post('/api/contact-requests', { agent_id: a.id });
    let settled = false;
    const poll = c.api.get('/api/inbox?unread_only=true&wait=20').finally(() => (settled = true));
    await untilWaiting(t.server, c.id);
    assert.equal((await a.api.post(`/api/contact-requests/${request.body.id}/approve`, {})).status, 200, 'c gets contact_request.approved');
    assert.equal(settled, false, 'the approval did not end the long-poll');
    const sent = await d.api.post('/api/messages', { recipient_id: c.id, body: 'the mail it waited for' });
    const res = await poll;
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.messages.map((m: { id: string }) => m.id),
      [sent.body.id],
    );
  });

  test(
    'rotating the API key ends open streams (a last frame says why) and long-polls (401) of the old key',
    { timeout: 30_000 },
    async () => {
      const [c, d] = [await register(t.url), await register(t.url)];
      await connect(c, d);
      const stream = await openStream(t.url, c.key);
      assert.equal(stream.status, 200);
      const poll = c.api.get('/api/inbox?unread_only=true&wait=20');
      await untilWaiting(t.server, c.id);
      const rotated = await c.api.post('/api/me/api-key/rotate');
      assert.equal(rotated.status, 200);

      const last = await stream.next();
      assert.equal(last.event, 'stream.closed');
      assert.equal(last.data.code, 'invalid_api_key');
      assert.equal(last.data.reason, 'api_key_rotated');
      await stream.ended;
      const polled = await poll;
      assert.equal(polled.status, 401);
      assert.equal(polled.body.error.code, 'invalid_api_key');

      // Mail sent after the rotation reaches only the new key.
      const sent = await d.api.post('/api/messages', { recipient_id: c.id, body: 'after rotation' });
      assert.equal((await c.api.get('/api/inbox')).status, 401);
      assert.equal((await openStream(t.url, c.key)).status, 401);
      const fresh = client(t.url, rotated.body.api_key);
      assert.deepEqual(
        (await fresh.get('/api/inbox')).body.messages.map((m: { id: string }) => m.id),
        [sent.body.id],
      );
    },
  );

  test(
    'an operator suspending an agent or resetting its key (amtp admin, another process) ends its open streams and long-polls',
    { timeout: 60_000 },
    async () => {
      const env: Record<string, string> = t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : { AMTP_DATA_DIR: t.dataDir };
      for (const [command, code, status] of [
        ['suspend', 'agent_suspended', 403],
        ['reset-key', 'invalid_api_key', 401],
      ] as const) {
        const c = await register(t.url);
        const stream = await openStream(t.url, c.key);
        assert.equal(stream.status, 200);
        const poll = c.api.get('/api/inbox?unread_only=true&wait=30');
        await untilWaiting(t.server, c.id);
        const done = await amtp(['admin', command, c.id], env);
        assert.equal(done.code, 0, done.stderr);
        // On PostgreSQL the CLI's wake-up reaches the server at once; on SQLite the stream's heartbeat (1 s here) finds it.
        const last = await stream.next(20_000);
        assert.equal(last.event, 'stream.closed');
        assert.equal(last.data.code, code);
        await stream.ended;
        if (t.config.databaseUrl) {
          const polled = await poll;
          assert.equal(polled.status, status);
          assert.equal(polled.body.error.code, code);
        } else {
          void poll.catch(() => undefined); // a long-poll on SQLite ends at its deadline: no wake-up crosses processes
        }
        assert.equal((await c.api.get('/api/inbox')).status, status);
      }
    },
  );

  test('rotating the delivery secret ends nothing: the stream goes on, with MACs under the new secret only', async () => {
    const registered = await client(t.url).post('/api/register', { name: `ds-${process.pid}-${Date.now()}` });
    const c: TestAgent = {
      id: registered.body.agent_id,
      name: '',
      key: registered.body.api_key,
      api: client(t.url, registered.body.api_key),
    };
    const d = await register(t.url);
    await connect(c, d);
    const stream = await openStream(t.url, c.key);
    const rotated = await c.api.post('/api/me/delivery-secret/rotate');
    assert.equal(rotated.status, 200);
    await d.api.post('/api/messages', { recipient_id: c.id, body: 'after the secret changed' });
    let event = await stream.next();
    while (event.event !== 'message.received') event = await stream.next();
    const message = event.data.data.message;
    assert.equal(message.body, 'after the secret changed');
    assert.equal(verifyDeliveryMac(rotated.body.delivery_secret, message), true, 'MAC under the new secret');
    assert.equal(verifyDeliveryMac(registered.body.delivery_secret, message), false, 'not under the old one');
    stream.close();
  });

  test('/mcp compares the whole origin, scheme included, and refuses JSON-RPC batches', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${t.url}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${a.key}`,
          ...headers,
        },
        body: JSON.stringify(body),
      });
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const host = new URL(t.url).host;
    assert.equal((await post(ping, { origin: `http://${host}` })).status, 200, 'same origin');
    const https = await post(ping, { origin: `https://${host}` });
    assert.equal(https.status, 403, 'another scheme is another origin');
    const batch = await post([ping, ping]);
    assert.equal(batch.status, 400);
    assert.equal((await batch.json()).error.code, -32600);
  });
});
