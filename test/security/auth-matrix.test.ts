/**
 * The authorization matrix, generated from the route table: every private endpoint × every kind of
 * unauthorized caller. A new private route without a sample request below fails this test, so no
 * endpoint can escape the matrix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { routes } from '../../src/http/routes.js';
import { client, connect, register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

const SECRET = 'SECRET-MARKER-7f3a';

describe('authorization matrix', () => {
  let t: TestServer;
  let a: TestAgent; // owner of every resource below
  let b: TestAgent; // a's mutual peer
  let stranger: TestAgent;
  let rotatedAwayKey: string;
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startServer({ AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true', AMTP_WEBHOOK_ALLOW_HTTP: 'true' });
    [a, b, stranger] = [await register(t.url), await register(t.url), await register(t.url)];
    await connect(a, b);
    const sent = await a.api.post('/api/messages', { recipient_id: b.id, subject: SECRET, body: SECRET });
    ids.message = sent.body.id;
    ids.thread = sent.body.thread_id;
    const e = await register(t.url);
    ids.request = (await e.api.post('/api/contact-requests', { agent_id: a.id, note: SECRET })).body.id;
    await a.api.put('/api/me/capabilities', { capabilities: [{ id: 'casual', title: SECRET }] });
    ids.held = (await a.api.post('/api/messages', { recipient_id: b.id, body: SECRET, hold_for_approval: { reasons: ['test'] } })).body.id;
    const old = await register(t.url);
    rotatedAwayKey = old.key;
    await old.api.post('/api/me/api-key/rotate');
  });
  after(() => t.close());

  /** A well-formed request for each private route, aimed at a's resources. */
  const samples = (): Record<string, { path: string; body?: unknown }> => ({
    'GET /api/me': { path: '/api/me' },
    'POST /api/me/api-key/rotate': { path: '/api/me/api-key/rotate' },
    'PUT /api/me/keys': { path: '/api/me/keys', body: { public_key: 'A'.repeat(43) } },
    'POST /api/me/delivery-secret/rotate': { path: '/api/me/delivery-secret/rotate' },
    'PUT /api/me/capabilities': { path: '/api/me/capabilities', body: { capabilities: [] } },
    'POST /api/contact-requests': { path: '/api/contact-requests', body: { agent_id: a.id } },
    'GET /api/contact-requests': { path: '/api/contact-requests' },
    'POST /api/contact-requests/:id/approve': { path: `/api/contact-requests/${ids.request}/approve`, body: {} },
    'POST /api/contact-requests/:id/decline': { path: `/api/contact-requests/${ids.request}/decline` },
    'POST /api/authorizations': { path: '/api/authorizations', body: { agent_id: a.id } },
    'DELETE /api/authorizations/:id': { path: `/api/authorizations/${a.id}` },
    'POST /api/blocks': { path: '/api/blocks', body: { agent_id: a.id } },
    'DELETE /api/blocks/:id': { path: `/api/blocks/${a.id}` },
    'GET /api/peers': { path: '/api/peers' },
    'POST /api/messages': { path: '/api/messages', body: { recipient_id: a.id, body: 'hi' } },
    'GET /api/messages/:id': { path: `/api/messages/${ids.message}` },
    'POST /api/messages/:id/read': { path: `/api/messages/${ids.message}/read` },
    'GET /api/inbox': { path: '/api/inbox' },
    'POST /api/inbox/read': { path: '/api/inbox/read', body: { thread_id: ids.thread } },
    'GET /api/outbox': { path: '/api/outbox' },
    'GET /api/conversations': { path: '/api/conversations' },
    'GET /api/conversations/:id': { path: `/api/conversations/${a.id}` },
    'POST /api/conversations/:id/read': { path: `/api/conversations/${a.id}/read` },
    'GET /api/threads/:thread_id': { path: `/api/threads/${ids.thread}` },
    'PUT /api/me/webhook': { path: '/api/me/webhook', body: { url: 'http://127.0.0.1:9/hook' } },
    'GET /api/me/webhook': { path: '/api/me/webhook' },
    'DELETE /api/me/webhook': { path: '/api/me/webhook' },
    'POST /api/me/webhook/test': { path: '/api/me/webhook/test' },
    'GET /api/me/webhook/deliveries': { path: '/api/me/webhook/deliveries' },
    'POST /api/me/webhook/deliveries/:id/redeliver': { path: '/api/me/webhook/deliveries/evt_x/redeliver' },
    'GET /api/me/audit': { path: '/api/me/audit' },
    'GET /api/me/audit/verify': { path: '/api/me/audit/verify' },
    'GET /api/me/guard': { path: '/api/me/guard' },
    'PUT /api/me/guard': { path: '/api/me/guard', body: { leak_guard: true } },
    'PUT /api/peers/:id/budget': { path: `/api/peers/${a.id}/budget`, body: { per_hour: 1 } },
    'DELETE /api/threads/:thread_id/loop': { path: `/api/threads/${ids.thread}/loop` },
    'GET /api/held': { path: '/api/held' },
    'POST /api/held/:id/approve': { path: `/api/held/${ids.held}/approve` },
    'DELETE /api/held/:id': { path: `/api/held/${ids.held}` },
    'POST /api/a2a/messages': {
      path: '/api/a2a/messages',
      body: { agent_card_url: 'https://a2a.example/.well-known/agent-card.json', body: 'hi' },
    },
    'GET /api/inbox/digest': { path: '/api/inbox/digest' },
    'POST /api/messages/:id/processed': { path: `/api/messages/${ids.message}/processed`, body: { outcome: 'done' } },
    'POST /api/messages/:id/deadline/decline': { path: `/api/messages/${ids.message}/deadline/decline`, body: { reason: 'no' } },
    'GET /api/me/quiet-hours': { path: '/api/me/quiet-hours' },
    'PUT /api/me/quiet-hours': { path: '/api/me/quiet-hours', body: { time_zone: 'UTC', start: '22:00', end: '07:00' } },
    'DELETE /api/me/quiet-hours': { path: '/api/me/quiet-hours' },
  });

  const privateRoutes = routes.filter((r) => r.auth === 'agent');

  test('every private route has a sample request (a new endpoint cannot escape the matrix)', () => {
    const known = samples();
    for (const r of privateRoutes) assert.ok(known[`${r.method} ${r.url}`], `add a sample for ${r.method} ${r.url}`);
    assert.ok(routes.some((r) => r.url === '/api/inbox/stream') === false, 'the stream is covered separately below');
  });

  test('no key, malformed key, unknown key, rotated-away key: 401 invalid_api_key, identical bodies, nothing else', async () => {
    const known = samples();
    const callers = {
      none: client(t.url),
      malformed: client(t.url, 'hunter2'),
      unknown: client(t.url, `a2a_sk_${'Z'.repeat(43)}`),
      rotated: client(t.url, rotatedAwayKey),
    };
    let cells = 0;
    let reference: unknown;
    for (const r of privateRoutes) {
      const { path, body } = known[`${r.method} ${r.url}`]!;
      for (const [who, api] of Object.entries(callers)) {
        const res = await api.call(r.method, path, body);
        assert.equal(res.status, 401, `${who} ${r.method} ${path}`);
        reference ??= res.body;
        assert.deepEqual(res.body, reference, `${who} ${r.method} ${path}`);
        cells++;
      }
    }
    for (const [who, api] of Object.entries(callers)) {
      assert.equal((await api.get('/api/inbox/stream')).status, 401, `${who} stream`);
      cells++;
    }
    console.log(`auth matrix: ${cells} (endpoint × unauthenticated caller) cells denied`);
  });

  test("another agent never sees the owner's data and cannot act on its resources", async () => {
    const known = samples();
    let cells = 0;
    const resourceRoutes = new Set([
      'POST /api/contact-requests/:id/approve',
      'POST /api/contact-requests/:id/decline',
      'GET /api/messages/:id',
      'POST /api/messages/:id/read',
      'GET /api/threads/:thread_id',
      'POST /api/messages',
      'POST /api/me/webhook/deliveries/:id/redeliver',
      'POST /api/held/:id/approve',
      'DELETE /api/held/:id',
      'POST /api/messages/:id/processed',
      'POST /api/messages/:id/deadline/decline',
    ]);
    // Run the destructive ones (rotate, delete, block) last so they cannot affect the others.
    const order = (r: (typeof privateRoutes)[number]) => (/rotate|blocks|authorizations/.test(r.url) ? 1 : 0);
    for (const r of [...privateRoutes].sort((x, y) => order(x) - order(y))) {
      const key = `${r.method} ${r.url}`;
      const { path, body } = known[key]!;
      const res = await stranger.api.call(r.method, path, body);
      assert.ok(res.status < 500, `${key}: ${res.status}`);
      assert.ok(!JSON.stringify(res.body ?? '').includes(SECRET), `${key} leaked the owner's data`);
      if (resourceRoutes.has(key)) assert.ok(res.status >= 400 && res.status < 500, `${key} must be denied, got ${res.status}`);
      cells++;
    }
    console.log(`auth matrix: ${cells} (endpoint × other agent) cells checked`);
  });

  test('peer relationships: non-mutual, revoked, blocked, wrong scope are denied with the right code', async () => {
    const owner = await register(t.url);
    const nonMutual = await register(t.url);
    await nonMutual.api.post('/api/contact-requests', { agent_id: owner.id });
    const revoked = await register(t.url);
    await connect(revoked, owner);
    await owner.api.del(`/api/authorizations/${revoked.id}`);
    const blocked = await register(t.url);
    await connect(blocked, owner);
    await owner.api.post('/api/blocks', { agent_id: blocked.id });
    const narrow = await register(t.url);
    await connect(narrow, owner, ['casual']);

    const cases: [TestAgent, Record<string, unknown>, number, string][] = [
      [nonMutual, {}, 403, 'not_authorized'],
      [revoked, {}, 403, 'not_authorized'],
      [blocked, {}, 403, 'not_authorized'],
      [narrow, { scope: 'message' }, 403, 'scope_not_granted'],
    ];
    let cells = 0;
    for (const [caller, extra, status, code] of cases) {
      const send = await caller.api.post('/api/messages', { recipient_id: owner.id, body: 'x', ...extra });
      assert.equal(send.status, status);
      assert.equal(send.body.error.code, code);
      const seen = await owner.api.get('/api/inbox');
      assert.equal(seen.body.messages.filter((m: any) => m.sender_id === caller.id).length, 0);
      cells++;
    }
    assert.equal((await blocked.api.post('/api/contact-requests', { agent_id: owner.id })).status, 404);
    assert.equal((await blocked.api.post('/api/authorizations', { agent_id: owner.id })).status, 404);
    cells += 2;
    console.log(`auth matrix: ${cells} (peer relationship) cells denied`);
  });
});

describe('authorization matrix: MCP tools', () => {
  test('every tool that needs a key × {no key, malformed, unknown, rotated-away}: tool error invalid_api_key; nothing of another agent leaks', async () => {
    const { tools } = await import('../../src/mcp/tools.js');
    const { mcpClient } = await import('../helpers/mcp.js');
    const t = await startServer();
    try {
      const owner = await register(t.url);
      const peer = await register(t.url);
      await connect(owner, peer);
      await owner.api.post('/api/messages', { recipient_id: peer.id, subject: SECRET, body: SECRET });
      const rotated = await register(t.url);
      await rotated.api.post('/api/me/api-key/rotate');
      const callers = {
        none: await mcpClient(t.url),
        malformed: await mcpClient(t.url, 'hunter2'),
        unknown: await mcpClient(t.url, `a2a_sk_${'Z'.repeat(43)}`),
        rotated: await mcpClient(t.url, rotated.key),
      };
      // Well-formed arguments for each tool, aimed at the owner's resources.
      const msg = (await owner.api.get('/api/outbox')).body.messages[0];
      const samples: Record<string, Record<string, unknown>> = {
        a2a_whoami: {},
        a2a_set_capabilities: { capabilities: [] },
        a2a_request_contact: { agent_id: owner.id },
        a2a_list_requests: {},
        a2a_authorize_agent: { agent_id: owner.id },
        a2a_decline_request: { request_id: `req_${'0'.repeat(32)}` },
        a2a_revoke_agent: { agent_id: owner.id },
        a2a_list_peers: {},
        a2a_send_message: { recipient_id: owner.id, body: 'x' },
        a2a_check_inbox: {},
        a2a_mark_read: { all: true },
        a2a_unblock_agent: { agent_id: owner.id },
        a2a_list_sent: {},
        a2a_get_thread: { thread_id: msg.thread_id },
        a2a_message_status: { message_id: msg.id },
        a2a_audit_log: {},
        a2a_send_to_a2a_agent: { agent_card_url: 'https://a2a.example/.well-known/agent-card.json', body: 'x' },
        a2a_inbox_digest: {},
        a2a_ack: { message_id: msg.id, outcome: 'done' },
        a2a_decline_deadline: { message_id: msg.id, reason: 'no' },
        a2a_quiet_hours: {},
      };
      let cells = 0;
      for (const def of tools.filter((d) => d.auth)) {
        assert.ok(samples[def.name], `add sample arguments for ${def.name}`);
        for (const [who, c] of Object.entries(callers)) {
          const result = await c.call(def.name, samples[def.name]);
          assert.equal(result.isError, true, `${who} ${def.name}`);
          assert.equal(result.data.error.code, 'invalid_api_key', `${who} ${def.name}`);
          assert.ok(!result.text.includes(SECRET));
          cells++;
        }
      }
      const stranger = await register(t.url);
      const mcp = await mcpClient(t.url, stranger.key);
      for (const name of ['a2a_check_inbox', 'a2a_list_peers', 'a2a_audit_log', 'a2a_list_requests', 'a2a_inbox_digest']) {
        const r = await mcp.call(name, {});
        assert.ok(!JSON.stringify(r).includes(SECRET), name);
        cells++;
      }
      for (const c of [...Object.values(callers), mcp]) await c.close();
      console.log(`auth matrix: ${cells} (MCP tool × caller) cells checked`);
    } finally {
      await t.close();
    }
  });
});
