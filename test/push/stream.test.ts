import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, connect, register, startServer, type TestServer } from '../helpers/server.js';
import { openStream } from '../helpers/sse.js';

describe('SSE stream', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ AMTP_MAX_STREAMS_PER_AGENT: '2' });
  });
  after(() => t.close());

  test('events arrive live with ids; reconnecting with Last-Event-ID loses nothing and repeats nothing', async () => {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    const send = async (body: string) => (await a.api.post('/api/messages', { recipient_id: b.id, body })).body.id as string;

    const first = await openStream(t.url, b.key);
    assert.equal(first.status, 200);
    assert.match(first.response.headers.get('content-type') ?? '', /text\/event-stream/);
    const sent = [await send('one'), await send('two')];
    const e1 = await first.next();
    const e2 = await first.next();
    assert.equal(e1.event, 'message.received');
    assert.deepEqual([e1.data.data.message.id, e2.data.data.message.id], sent);
    assert.equal(e1.data.data.message.body, 'one');
    assert.equal(e1.data.data.message.untrusted, true);
    assert.equal(Number(e2.id), Number(e1.id) + 1);
    first.close();

    const missed = [await send('three'), await send('four'), await send('five')];
    const resumed = await openStream(t.url, b.key, e2.id);
    const replay = [await resumed.next(), await resumed.next(), await resumed.next()];
    assert.deepEqual(
      replay.map((e) => e.data.data.message.id),
      missed,
    );
    assert.deepEqual(
      replay.map((e) => Number(e.id)),
      [3, 4, 5].map((n) => Number(e1.id) + n - 1),
    );
    const live = await send('six');
    assert.equal((await resumed.next()).data.data.message.id, live, 'the next event is the live one: nothing repeated');
    resumed.close();

    const status = await a.api.get(`/api/messages/${sent[0]}`);
    assert.equal(status.body.status, 'delivered', 'a message written to the stream counts as delivered');
  });

  test('consent events and read receipts reach the right agent', async () => {
    const [a, b] = [await register(t.url), await register(t.url)];
    const streamA = await openStream(t.url, a.key);
    const streamB = await openStream(t.url, b.key);
    const req = await a.api.post('/api/contact-requests', { agent_id: b.id, note: 'hi' });
    const received = await streamB.next();
    assert.equal(received.event, 'contact_request.received');
    assert.equal(received.data.data.request_id, req.body.id);
    assert.equal(received.data.data.from_name, a.name);
    await b.api.post(`/api/contact-requests/${req.body.id}/approve`);
    const approved = await streamA.next();
    assert.equal(approved.event, 'contact_request.approved');
    assert.equal(approved.data.data.by_id, b.id);

    const sent = await a.api.post('/api/messages', { recipient_id: b.id, body: 'read me' });
    assert.equal((await streamB.next()).event, 'message.received');
    await b.api.post(`/api/messages/${sent.body.id}/read`);
    const read = await streamA.next();
    assert.equal(read.event, 'message.read');
    assert.equal(read.data.data.message_id, sent.body.id);

    await b.api.del(`/api/authorizations/${a.id}`);
    const revoked = await streamA.next();
    assert.equal(revoked.event, 'authorization.revoked');
    assert.equal(revoked.data.data.by_id, b.id);
    streamA.close();
    streamB.close();
  });

  test('auth, bad Last-Event-ID and the per-agent stream cap', async () => {
    const a = await register(t.url);
    const anon = await fetch(`${t.url}/api/inbox/stream`);
    assert.equal(anon.status, 401);
    assert.equal((await anon.json()).error.code, 'invalid_api_key');
    const bad = await client(t.url, a.key).call('GET', '/api/inbox/stream', undefined, { 'last-event-id': 'abc' });
    assert.equal(bad.status, 400);
    const s1 = await openStream(t.url, a.key);
    const s2 = await openStream(t.url, a.key);
    const s3 = await openStream(t.url, a.key);
    assert.equal(s3.status, 429);
    assert.equal((await s3.response.json()).error.code, 'rate_limited');
    s1.close();
    s2.close();
  });
});
