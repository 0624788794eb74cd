import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, register, startServer, untilWaiting, type TestAgent, type TestServer } from '../helpers/server.js';
import type { InboxOutput, SendOutput } from '../../src/protocol/schemas.js';

describe('messaging', () => {
  let t: TestServer;
  let a: TestAgent;
  let b: TestAgent;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  const pair = async () => {
    [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
  };

  test('send → 202 queued → inbox shows it, marked untrusted, with the sender verified by the server', async () => {
    await pair();
    const sent = await a.api.post('/api/messages', {
      recipient_id: b.name,
      subject: 'API review',
      body: 'thursday 2pm work for the API review?',
    });
    assert.equal(sent.status, 202);
    assert.equal(sent.body.status, 'queued');
    assert.match(sent.body.id, /^msg_[0-9a-f]{32}$/);
    assert.match(sent.body.thread_id, /^thr_[0-9a-f]{32}$/);
    const inbox = await b.api.get('/api/inbox?unread_only=true');
    assert.equal(inbox.status, 200);
    assert.equal(inbox.body.unread_count, 1);
    const [m] = inbox.body.messages;
    assert.equal(m.id, sent.body.id);
    assert.equal(m.sender_id, a.id);
    assert.equal(m.sender_name, a.name);
    assert.equal(m.subject, 'API review');
    assert.equal(m.body, 'thursday 2pm work for the API review?');
    assert.equal(m.scope, 'message');
    assert.equal(m.untrusted, true);
    assert.equal(m.reply_to_id, null);
    for (const key of ['intent', 'payload', 'created_at', 'read_at']) assert.ok(key in m, key);
  });

  test('read receipts: queued → delivered when first fetched → read', async () => {
    await pair();
    const { body: sent } = await a.api.post('/api/messages', { recipient_id: b.id, body: 'ping' });
    assert.equal((await a.api.get(`/api/messages/${sent.id}`)).body.status, 'queued');
    await b.api.get('/api/inbox');
    const delivered = await a.api.get(`/api/messages/${sent.id}`);
    assert.equal(delivered.body.status, 'delivered');
    assert.ok(delivered.body.delivered_at);
    assert.equal(delivered.body.read_at, null);
    const read = await b.api.post(`/api/messages/${sent.id}/read`);
    assert.equal(read.body.status, 'read');
    const outbox = await a.api.get('/api/outbox');
    const mine = outbox.body.messages.find((m: any) => m.id === sent.id);
    assert.equal(mine.status, 'read');
    assert.ok(mine.read_at);
    const senderCannot = await a.api.post(`/api/messages/${sent.id}/read`);
    assert.equal(senderCannot.status, 400);
    const stranger = await register(t.url);
    assert.equal((await stranger.api.get(`/api/messages/${sent.id}`)).status, 404);
  });

  test('client_id makes retries idempotent: same message, no duplicate', async () => {
    await pair();
    const body = { recipient_id: b.id, body: 'once', client_id: 'retry-1' };
    const first = await a.api.post('/api/messages', body);
    const second = await a.api.post('/api/messages', body);
    assert.equal(second.status, 202);
    assert.deepEqual(second.body, first.body);
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => a.api.post('/api/messages', { ...body, client_id: 'retry-2' })));
    assert.equal(new Set(concurrent.map((r) => r.body.id)).size, 1);
    const inbox = await b.api.get('/api/inbox');
    assert.equal(inbox.body.messages.length, 2);
  });

  test('oversized body is 413 too_large; invalid fields are 400', async () => {
    await pair();
    const big = await a.api.post('/api/messages', { recipient_id: b.id, body: 'x'.repeat(64 * 1024 + 1) });
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'too_large');
    assert.equal(big.body.error.limit, 65536);
    const noRecipient = await a.api.post('/api/messages', { body: 'x' });
    assert.equal(noRecipient.status, 400);
    assert.match(noRecipient.body.error.message, /recipient_id/);
    const badType = await a.api.post('/api/messages', { recipient_id: b.id, body: 42 });
    assert.equal(badType.status, 400);
    const badJson = await a.api.post('/api/messages', '{"recipient_id": ');
    assert.equal(badJson.body.error.code, 'invalid_json');
  });

  test('replies inherit the thread, only between the same pair; conversations group by pair', async () => {
    await pair();
    const c = await register(t.url);
    await connect(a, c);
    const first = await a.api.post('/api/messages', { recipient_id: b.id, subject: 'PR #214', body: 'review?' });
    const reply = await b.api.post('/api/messages', { recipient_id: a.id, body: 'LGTM', reply_to_id: first.body.id });
    assert.equal(reply.body.thread_id, first.body.thread_id);
    const other = await a.api.post('/api/messages', { recipient_id: b.id, subject: 'lunch', body: 'today?' });
    assert.notEqual(other.body.thread_id, first.body.thread_id);
    const hijack = await a.api.post('/api/messages', { recipient_id: c.id, body: 'fwd', reply_to_id: first.body.id });
    assert.equal(hijack.status, 422);
    assert.equal(hijack.body.error.code, 'invalid_reply_to');
    const outsider = await c.api.post('/api/messages', { recipient_id: a.id, body: 'x', reply_to_id: first.body.id });
    assert.equal(outsider.status, 422);

    const thread = await a.api.get(`/api/threads/${first.body.thread_id}`);
    assert.deepEqual(
      thread.body.messages.map((m: any) => m.id),
      [first.body.id, reply.body.id],
    );
    assert.equal(thread.body.messages[1].reply_to_id, first.body.id);
    assert.equal((await c.api.get(`/api/threads/${first.body.thread_id}`)).status, 404);

    await c.api.post('/api/messages', { recipient_id: a.id, body: 'hi from c' });
    const conv = await a.api.get('/api/conversations');
    assert.deepEqual(
      conv.body.conversations.map((x: any) => x.peer_name),
      [c.name, b.name],
    );
    const withB = conv.body.conversations[1];
    assert.equal(withB.message_count, 3);
    assert.equal(withB.unread_count, 1);
    assert.equal(withB.last_message.id, other.body.id);
  });

  test('one conversation per peer, newest first with a cursor; marking it read touches only that peer', async () => {
    await pair();
    const c = await register(t.url);
    await connect(b, c);
    const fromC = await c.api.post('/api/messages', { recipient_id: b.id, body: 'from c' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [from, to] = i % 2 ? [b, a] : [a, b];
      ids.push((await from.api.post('/api/messages', { recipient_id: to.id, body: `m${i}` })).body.id);
    }
    const withC = await b.api.get(`/api/conversations/${c.name}`);
    assert.equal(withC.status, 200);
    assert.deepEqual(
      withC.body.messages.map((m: any) => m.id),
      [fromC.body.id],
      'other peers’ traffic never pushes it out',
    );
    const p1 = await b.api.get(`/api/conversations/${a.id}?limit=3`);
    assert.deepEqual(
      p1.body.messages.map((m: any) => m.id),
      ids.slice(2).reverse(),
    );
    assert.equal(p1.body.messages[0].delivery_mac.length > 0, true);
    const p2 = await b.api.get(`/api/conversations/${a.id}?limit=3&cursor=${p1.body.next_cursor}`);
    assert.deepEqual(
      p2.body.messages.map((m: any) => m.id),
      ids.slice(0, 2).reverse(),
    );
    assert.equal(p2.body.next_cursor, null);
    assert.equal((await b.api.get(`/api/conversations/${a.id}?cursor=nope`)).status, 400);
    const missing = await b.api.get('/api/conversations/nobody-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'agent_not_found');

    const marked = await b.api.post(`/api/conversations/${a.name}/read`);
    assert.deepEqual(marked.body, { marked: 3 });
    const conv = await b.api.get('/api/conversations');
    const unread = Object.fromEntries(conv.body.conversations.map((x: any) => [x.peer_name, x.unread_count]));
    assert.deepEqual(unread, { [a.name]: 0, [c.name]: 1 });
    const receipt = await a.api.get(`/api/messages/${ids[0]}`);
    assert.equal(receipt.body.status, 'read');
  });

  test('inbox pagination with cursors, both orders; unread_only; mark all read', async () => {
    await pair();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await a.api.post('/api/messages', { recipient_id: b.id, body: `m${i}` })).body.id);
    const p1 = await b.api.get('/api/inbox?limit=2');
    assert.deepEqual(
      p1.body.messages.map((m: any) => m.id),
      ids.slice(0, 2),
    );
    const p2 = await b.api.get(`/api/inbox?limit=2&cursor=${p1.body.next_cursor}`);
    assert.deepEqual(
      p2.body.messages.map((m: any) => m.id),
      ids.slice(2, 4),
    );
    const p3 = await b.api.get(`/api/inbox?limit=2&cursor=${p2.body.next_cursor}`);
    assert.deepEqual(
      p3.body.messages.map((m: any) => m.id),
      ids.slice(4),
    );
    assert.equal(p3.body.next_cursor, null);
    const desc = await b.api.get('/api/inbox?order=desc&limit=3');
    assert.deepEqual(
      desc.body.messages.map((m: any) => m.id),
      ids.slice(2).reverse(),
    );
    assert.equal((await b.api.get('/api/inbox?cursor=garbage')).status, 400);

    await b.api.post(`/api/messages/${ids[0]}/read`);
    const unread = await b.api.get('/api/inbox?unread_only=true');
    assert.equal(unread.body.unread_count, 4);
    assert.deepEqual(
      unread.body.messages.map((m: any) => m.id),
      ids.slice(1),
    );
    assert.deepEqual((await b.api.post('/api/inbox/read')).body, { marked: 4 });
    assert.equal((await b.api.get('/api/me')).body.unread_count, 0);
    assert.equal((await b.api.get('/api/inbox?unread_only=true')).body.messages.length, 0);
  });

  test('long-poll: a waiting inbox wakes up when a message arrives', async () => {
    await pair();
    const waiting = b.api.get<InboxOutput>('/api/inbox?unread_only=true&wait=30');
    await untilWaiting(t.server, b.id);
    const sent = await a.api.post<SendOutput>('/api/messages', { recipient_id: b.id, body: 'wake up' });
    const woke = await waiting;
    assert.equal(woke.status, 200);
    assert.deepEqual(
      woke.body.messages.map((m) => m.id),
      [sent.body.id],
    );
  });

  test('long-poll returns empty after its wait when nothing arrives', async () => {
    await pair();
    const res = await b.api.get('/api/inbox?unread_only=true&wait=1');
    assert.deepEqual(res.body.messages, []);
  });

  test('capabilities: publish, public read, taxonomy, typed intents validated with JSON Schema', async () => {
    await pair();
    const schema = {
      type: 'object',
      required: ['duration_minutes'],
      properties: { duration_minutes: { type: 'integer', minimum: 5 }, topic: { type: 'string' } },
      additionalProperties: false,
    };
    const put = await b.api.put('/api/me/capabilities', {
      capabilities: [
        { id: 'scheduling', title: 'Calendar', description: 'Find meeting times.', input_schema: schema },
        { id: 'casual', title: 'Casual' },
      ],
    });
    assert.equal(put.status, 200);
    const pub = await fetch(`${t.url}/api/agents/${b.name}/capabilities`).then((r) => r.json());
    assert.deepEqual(
      pub.capabilities.map((c: any) => c.id),
      ['scheduling', 'casual'],
    );
    const tax = await fetch(`${t.url}/api/taxonomy`).then((r) => r.json());
    assert.deepEqual(
      tax.capabilities.map((c: any) => c.id),
      ['scheduling', 'invoicing', 'projects', 'research', 'code-review', 'support', 'casual'],
    );

    const ok = await a.api.post('/api/messages', { recipient_id: b.id, intent: 'scheduling', payload: { duration_minutes: 30 } });
    assert.equal(ok.status, 202);
    const bad = await a.api.post('/api/messages', {
      recipient_id: b.id,
      intent: 'scheduling',
      payload: { duration_minutes: 1, extra: true },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.code, 'invalid_payload');
    assert.ok(bad.body.error.errors.length >= 2);
    const unknown = await a.api.post('/api/messages', { recipient_id: b.id, intent: 'invoicing', payload: {} });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.error.code, 'unknown_intent');
    const invalidSchema = await b.api.put('/api/me/capabilities', {
      capabilities: [{ id: 'x', title: 'X', input_schema: { type: 'nonsense' } }],
    });
    assert.equal(invalidSchema.status, 422);
    assert.equal(invalidSchema.body.error.code, 'invalid_schema');
    const dup = await b.api.put('/api/me/capabilities', {
      capabilities: [
        { id: 'x', title: 'X' },
        { id: 'x', title: 'Y' },
      ],
    });
    assert.equal(dup.status, 400);
  });
});

describe('limits and retention', () => {
  test('per-pair rate limit answers 429 with Retry-After', async () => {
    const t = await startServer({ AMTP_RATE_PAIR_PER_MINUTE: '3' });
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      for (let i = 0; i < 3; i++) assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body: `${i}` })).status, 202);
      const limited = await a.api.post('/api/messages', { recipient_id: b.id, body: 'too many' });
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal((await b.api.post('/api/messages', { recipient_id: a.id, body: 'other direction' })).status, 202);
    } finally {
      await t.close();
    }
  });

  test('per-sender rate limit covers all recipients', async () => {
    const t = await startServer({ AMTP_RATE_SEND_PER_MINUTE: '2' });
    try {
      const [a, b, c] = [await register(t.url), await register(t.url), await register(t.url)];
      await connect(a, b);
      await connect(a, c);
      assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body: '1' })).status, 202);
      assert.equal((await a.api.post('/api/messages', { recipient_id: c.id, body: '2' })).status, 202);
      assert.equal((await a.api.post('/api/messages', { recipient_id: c.id, body: '3' })).status, 429);
    } finally {
      await t.close();
    }
  });

  test('retention keeps the newest N messages per mailbox', async () => {
    const t = await startServer({ AMTP_RETENTION_MAX_MESSAGES: '2' });
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      for (let i = 0; i < 4; i++) await a.api.post('/api/messages', { recipient_id: b.id, body: `m${i}` });
      assert.equal(await t.server.core.messaging.prune(), 2);
      const inbox = await b.api.get('/api/inbox');
      assert.deepEqual(
        inbox.body.messages.map((m: any) => m.body),
        ['m2', 'm3'],
      );
    } finally {
      await t.close();
    }
  });
});
