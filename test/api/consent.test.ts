import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, connect, register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

describe('consent', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  const send = (from: TestAgent, to: string, extra: Record<string, unknown> = {}) =>
    from.api.post('/api/messages', { recipient_id: to, body: 'hello', ...extra });
  const peer = async (of: TestAgent, other: TestAgent) =>
    (await of.api.get('/api/peers')).body.peers.find((p: any) => p.agent_id === other.id);

  test('nobody can message an agent before both sides authorize', async () => {
    const [a, b] = [await register(t.url), await register(t.url)];
    const res = await send(a, b.id);
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'not_authorized');
  });

  test('request waits in the queue; approval makes the pair mutual', async () => {
    const [a, b] = [await register(t.url), await register(t.url)];
    const req = await a.api.post('/api/contact-requests', { agent_id: b.name, note: 'API review?', scopes: ['message', 'scheduling'] });
    assert.equal(req.status, 201);
    assert.equal(req.body.status, 'pending');
    assert.equal(req.body.from_name, a.name);
    assert.deepEqual(req.body.scopes, ['message', 'scheduling']);

    const again = await a.api.post('/api/contact-requests', { agent_id: b.id });
    assert.equal(again.body.id, req.body.id, 'a repeated request returns the pending one');

    const incoming = await b.api.get('/api/contact-requests?direction=incoming&status=pending');
    assert.deepEqual(
      incoming.body.requests.map((r: any) => r.id),
      [req.body.id],
    );
    const outgoing = await a.api.get('/api/contact-requests?direction=outgoing');
    assert.deepEqual(
      outgoing.body.requests.map((r: any) => r.id),
      [req.body.id],
    );

    assert.equal((await peer(a, b)).state, 'pending_outgoing');
    assert.equal((await peer(b, a)).state, 'pending_incoming');
    assert.equal((await send(a, b.id)).status, 403, 'the requester authorized B, but B has not answered');
    assert.equal((await send(b, a.id)).status, 403, 'B has not authorized A yet either');

    const approved = await b.api.post(`/api/contact-requests/${req.body.id}/approve`, { scopes: ['scheduling'] });
    assert.equal(approved.status, 200);
    assert.equal(approved.body.status, 'approved');
    const pa = await peer(a, b);
    assert.equal(pa.state, 'mutual');
    assert.deepEqual(pa.their_scopes, ['scheduling']);
    assert.deepEqual(pa.my_scopes, ['message', 'scheduling']);

    assert.equal((await send(a, b.id, { scope: 'scheduling' })).status, 202);
    const wrong = await send(a, b.id, { scope: 'message' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'scope_not_granted');
    assert.deepEqual(wrong.body.error.granted_scopes, ['scheduling']);
    assert.equal((await send(b, a.id, { scope: 'message' })).status, 202, 'scopes are per direction');

    const twice = await b.api.post(`/api/contact-requests/${req.body.id}/approve`);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'request_not_pending');
    const connected = await a.api.post('/api/contact-requests', { agent_id: b.id });
    assert.equal(connected.status, 409);
    assert.equal(connected.body.error.code, 'already_connected');
  });

  test('only the recipient can decide a request', async () => {
    const [a, b, c] = [await register(t.url), await register(t.url), await register(t.url)];
    const req = await a.api.post('/api/contact-requests', { agent_id: b.id });
    for (const who of [a, c]) {
      for (const action of ['approve', 'decline']) {
        const res = await who.api.post(`/api/contact-requests/${req.body.id}/${action}`);
        assert.equal(res.status, 404);
        assert.equal(res.body.error.code, 'request_not_found');
      }
    }
  });

  test('revoke takes effect for the very next message', async () => {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    assert.equal((await send(a, b.id)).status, 202);
    const revoked = await b.api.del(`/api/authorizations/${a.id}`);
    assert.deepEqual(revoked.body, { revoked: true });
    const res = await send(a, b.id);
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'not_authorized');
    assert.equal((await send(b, a.id)).status, 403, 'a pair is usable only while mutual');
    assert.equal((await peer(b, a)).state, 'authorized_by_them');
    assert.equal((await peer(a, b)).state, 'authorized_by_me');
  });

  test('decline blocks the requester for good; they look like an unknown agent; only the decliner unblocks', async () => {
    const [a, b] = [await register(t.url), await register(t.url)];
    const req = await a.api.post('/api/contact-requests', { agent_id: b.id });
    const declined = await b.api.post(`/api/contact-requests/${req.body.id}/decline`);
    assert.equal(declined.body.status, 'declined');
    assert.equal((await peer(b, a)).state, 'blocked');

    const unknown = await a.api.post('/api/contact-requests', { agent_id: 'no-such-agent' });
    const blocked = await a.api.post('/api/contact-requests', { agent_id: b.id });
    assert.equal(blocked.status, 404);
    assert.deepEqual(blocked.body, unknown.body);
    assert.equal((await a.api.post('/api/authorizations', { agent_id: b.id })).status, 404);

    const sendUnknown = await send(a, `a2a_${'0'.repeat(32)}`);
    const sendBlocked = await send(a, b.id);
    assert.equal(sendBlocked.status, 403);
    assert.deepEqual(sendBlocked.body, sendUnknown.body);

    assert.equal((await a.api.del(`/api/blocks/${b.id}`)).body.unblocked, false, 'A cannot lift B’s block');
    assert.equal((await b.api.post('/api/contact-requests', { agent_id: a.id })).status, 400, 'B must unblock before asking A');
    assert.deepEqual((await b.api.del(`/api/blocks/${a.id}`)).body, { unblocked: true });
    assert.equal((await a.api.post('/api/contact-requests', { agent_id: b.id })).status, 201);
  });

  test('unknown, blocked and never-answered recipients get the identical 403', async () => {
    const [a, b, c] = [await register(t.url), await register(t.url), await register(t.url)];
    await c.api.post('/api/blocks', { agent_id: a.id });
    await a.api.post('/api/contact-requests', { agent_id: b.id });
    const bodies = [
      await send(a, `a2a_${'f'.repeat(32)}`),
      await send(a, 'nobody-at-all'),
      await send(a, b.id),
      await send(a, c.id),
      await send(a, a.id),
    ];
    for (const res of bodies) {
      assert.equal(res.status, 403);
      assert.deepEqual(res.body, bodies[0]!.body);
    }
  });

  test('authorizing directly is an invitation; a request from the invitee is approved at once', async () => {
    const [a, b] = [await register(t.url), await register(t.url)];
    const invited = await b.api.post('/api/authorizations', { agent_id: a.id, scopes: ['casual'] });
    assert.equal(invited.status, 200);
    assert.equal(invited.body.state, 'authorized_by_me');
    const req = await a.api.post('/api/contact-requests', { agent_id: b.id, scopes: ['casual'] });
    assert.equal(req.body.status, 'approved');
    assert.equal((await peer(a, b)).state, 'mutual');
    assert.equal((await send(a, b.id, { scope: 'casual' })).status, 202);
  });

  test('authorizing an agent with a pending request approves it; changing scopes is audited', async () => {
    const [a, b] = [await register(t.url), await register(t.url)];
    const req = await a.api.post('/api/contact-requests', { agent_id: b.id });
    const res = await b.api.post('/api/authorizations', { agent_id: a.id, scopes: ['message', 'projects'] });
    assert.equal(res.body.state, 'mutual');
    const list = await b.api.get('/api/contact-requests?direction=incoming&status=approved');
    assert.deepEqual(
      list.body.requests.map((r: any) => r.id),
      [req.body.id],
    );
    await b.api.post('/api/authorizations', { agent_id: a.id, scopes: ['projects'] });
    assert.equal((await send(a, b.id)).body.error.code, 'scope_not_granted');
    assert.equal((await send(a, b.id, { scope: 'projects' })).status, 202);
    const actions = (await b.api.get('/api/me/audit')).body.entries.map((e: any) => e.action);
    assert.deepEqual(actions, ['agent.registered', 'grant.created', 'grant.scopes_changed']);
  });

  test('a direct block stops messages both ways and declines a pending request', async () => {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    await b.api.post('/api/blocks', { agent_id: a.id });
    assert.equal((await send(a, b.id)).status, 403);
    assert.equal((await send(b, a.id)).status, 403);
  });

  test('pending outgoing requests are capped', async () => {
    const capped = await startServer({ AMTP_MAX_PENDING_REQUESTS: '2' });
    try {
      const a = await register(capped.url);
      const others = [await register(capped.url), await register(capped.url), await register(capped.url)];
      assert.equal((await a.api.post('/api/contact-requests', { agent_id: others[0]!.id })).status, 201);
      assert.equal((await a.api.post('/api/contact-requests', { agent_id: others[1]!.id })).status, 201);
      const third = await a.api.post('/api/contact-requests', { agent_id: others[2]!.id });
      assert.equal(third.status, 429);
      assert.equal(third.body.error.code, 'too_many_pending_requests');
    } finally {
      await capped.close();
    }
  });

  test('requests to yourself and bad ids are 4xx', async () => {
    const a = await register(t.url);
    assert.equal((await a.api.post('/api/contact-requests', { agent_id: a.id })).status, 400);
    assert.equal((await a.api.post('/api/contact-requests/req_nope/approve')).status, 400);
    assert.equal((await a.api.get('/api/contact-requests?direction=sideways')).status, 400);
    assert.equal((await client(t.url).get('/api/peers')).status, 401);
  });
});
