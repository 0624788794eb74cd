import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, register, startServer, type TestServer } from '../helpers/server.js';

describe('identity', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  test('register returns an id, the handle and a prefixed API key shown once', async () => {
    const res = await client(t.url).post('/api/register', { name: 'jane-personal', display_name: 'Jane' });
    assert.equal(res.status, 201);
    assert.match(res.body.agent_id, /^a2a_[0-9a-f]{32}$/);
    assert.equal(res.body.name, 'jane-personal');
    assert.match(res.body.api_key, /^a2a_sk_[A-Za-z0-9_-]{43}$/);
    const me = await client(t.url, res.body.api_key).get('/api/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.agent_id, res.body.agent_id);
    assert.equal(me.body.display_name, 'Jane');
    assert.equal(me.body.unread_count, 0);
    assert.equal('api_key' in me.body, false, 'the key is never shown again');
  });

  test('only a hash of the key is stored', async () => {
    const a = await register(t.url);
    const [row] = await t.sql('SELECT * FROM agents WHERE id = ?', a.id);
    assert.ok(row);
    assert.ok(!Object.values(row).some((v) => String(v).includes(a.key.slice(7))), 'no column holds the key');
    assert.match(String(row.api_key_hash), /^[0-9a-f]{64}$/);
  });

  test('names are unique, lowercase handles of 3–32 characters', async () => {
    await register(t.url, 'taken-name');
    const dup = await client(t.url).post('/api/register', { name: 'taken-name' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'name_taken');
    for (const name of ['ab', 'UPPER', 'has space', 'x'.repeat(33), 'emoji-🙂']) {
      const bad = await client(t.url).post('/api/register', { name });
      assert.equal(bad.status, 400, name);
      assert.equal(bad.body.error.code, 'invalid_request');
      assert.match(bad.body.error.message, /name/);
    }
  });

  test('a missing, malformed, unknown or non-Bearer key is 401 invalid_api_key, always the same answer', async () => {
    const answers = await Promise.all([
      client(t.url).get('/api/me'),
      client(t.url, 'nonsense').get('/api/me'),
      client(t.url, `a2a_sk_${'A'.repeat(43)}`).get('/api/me'),
      client(t.url).call('GET', '/api/me', undefined, { authorization: 'Basic Zm9vOmJhcg==' }),
    ]);
    for (const res of answers) {
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, answers[0].body);
      assert.equal(res.body.error.code, 'invalid_api_key');
    }
  });

  test('rotating the key shows a new one once; the old one stops working at once; audited', async () => {
    const a = await register(t.url);
    const rotated = await a.api.post('/api/me/api-key/rotate');
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.api_key, a.key);
    assert.equal((await a.api.get('/api/me')).status, 401);
    const fresh = client(t.url, rotated.body.api_key);
    assert.equal((await fresh.get('/api/me')).status, 200);
    const audit = await fresh.get('/api/me/audit');
    assert.ok(audit.body.entries.some((e: any) => e.action === 'api_key.rotated'));
  });

  test('public profile by id or name, without auth', async () => {
    const a = await register(t.url, 'public-profile', { display_name: 'P', public_key: 'A'.repeat(43) });
    for (const ref of [a.id, a.name]) {
      const res = await client(t.url).get(`/api/agents/${ref}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), [
        'address',
        'agent_id',
        'created_at',
        'display_name',
        'encryption_key',
        'key_rotation',
        'keys_reset_at',
        'name',
        'public_key',
        'remote',
      ]);
      assert.equal(res.body.public_key, 'A'.repeat(43));
    }
    const missing = await client(t.url).get('/api/agents/nobody-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'agent_not_found');
  });

  test('service endpoints: /healthz, /.well-known/amtp, /openapi.json, unknown routes', async () => {
    assert.deepEqual((await client(t.url).get('/healthz')).body, { status: 'ok', store: t.backend });
    const wk = await client(t.url).get('/.well-known/amtp');
    assert.equal(wk.body.protocol, 'amtp');
    assert.equal(wk.body.limits.max_message_bytes, 65536);
    assert.equal(wk.body.registration, 'open');
    const spec = await client(t.url).get('/openapi.json');
    assert.ok(spec.body.paths['/api/messages'].post);
    assert.deepEqual(spec.body.paths['/api/messages'].post.security, [{ bearer: [] }]);
    const metrics = await fetch(`${t.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /^amtp_http_responses_total\{class="2xx"\} \d+$/m);
    assert.match(metrics, /^amtp_streams_open 0$/m);
    const nf = await client(t.url).get('/api/nope');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.code, 'not_found');
  });

  test('malformed requests get clear 4xx JSON errors', async () => {
    const bad = await client(t.url).post('/api/register', '{"name": "broken"');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_json');
    const proto = await client(t.url).post('/api/register', '{"name":"proto-x","__proto__":{"admin":true}}');
    assert.equal(proto.status, 400);
    const extra = await client(t.url).post('/api/register', { name: 'extra-field', admin: true });
    assert.equal(extra.status, 400);
    assert.equal(extra.body.error.code, 'invalid_request');
    const media = await client(t.url).post('/api/register', 'name=x', { 'content-type': 'text/plain' });
    assert.equal(media.status, 415);
    assert.equal(media.body.error.code, 'unsupported_media_type');
    const huge = await client(t.url).post('/api/register', { name: 'huge', display_name: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'too_large');
  });
});

describe('registration modes', () => {
  test('closed: nobody registers', async () => {
    const t = await startServer({ AMTP_REGISTRATION: 'closed' });
    try {
      const res = await client(t.url).post('/api/register', { name: 'closed-one' });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'registration_closed');
    } finally {
      await t.close();
    }
  });

  test('invite: a single-use token created by the operator', async () => {
    const t = await startServer({ AMTP_REGISTRATION: 'invite' });
    try {
      const none = await client(t.url).post('/api/register', { name: 'no-invite' });
      assert.equal(none.status, 403);
      assert.equal(none.body.error.code, 'invalid_invite');
      const { invite } = await t.server.core.admin.createInvite(null);
      const ok = await client(t.url).post('/api/register', { name: 'invited', invite });
      assert.equal(ok.status, 201);
      const again = await client(t.url).post('/api/register', { name: 'invited-twice', invite });
      assert.equal(again.status, 403);
      assert.equal(again.body.error.code, 'invalid_invite');
    } finally {
      await t.close();
    }
  });

  test('registrations per source address are rate limited', async () => {
    const t = await startServer({ AMTP_RATE_REGISTER_PER_HOUR: '2' });
    try {
      await register(t.url);
      await register(t.url);
      const res = await client(t.url).post('/api/register', { name: 'third-one' });
      assert.equal(res.status, 429);
      assert.equal(res.body.error.code, 'rate_limited');
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
    } finally {
      await t.close();
    }
  });
});
