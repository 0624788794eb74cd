import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, register, startServer, type TestServer } from '../helpers/server.js';

describe('audit log', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  test('every grant, scope change, revoke, decline, block, unblock, key rotation and capability change is logged and chained', async () => {
    const [a, b, c] = [await register(t.url), await register(t.url), await register(t.url)];
    await connect(a, b);
    await b.api.post('/api/authorizations', { agent_id: a.id, scopes: ['message', 'casual'] });
    await b.api.del(`/api/authorizations/${a.id}`);
    const req = await c.api.post('/api/contact-requests', { agent_id: b.id });
    await b.api.post(`/api/contact-requests/${req.body.id}/decline`);
    await b.api.del(`/api/blocks/${c.id}`);
    await b.api.put('/api/me/capabilities', { capabilities: [{ id: 'casual', title: 'Casual' }] });
    const rotated = await b.api.post('/api/me/api-key/rotate');
    b.api = (await import('../helpers/server.js')).client(t.url, rotated.body.api_key);

    const log = await b.api.get('/api/me/audit?limit=200');
    assert.deepEqual(
      log.body.entries.map((e: any) => [e.action, e.target_id]),
      [
        ['agent.registered', b.id],
        ['grant.created', a.id],
        ['grant.scopes_changed', a.id],
        ['grant.revoked', a.id],
        ['block.created', c.id],
        ['request.declined', c.id],
        ['block.removed', c.id],
        ['capabilities.changed', b.id],
        ['api_key.rotated', b.id],
      ],
    );
    const entries = log.body.entries;
    assert.equal(entries[0].prev_hash, '0'.repeat(64));
    for (let i = 1; i < entries.length; i++) assert.equal(entries[i].prev_hash, entries[i - 1].hash);
    const requester = await a.api.get('/api/me/audit');
    assert.deepEqual(
      requester.body.entries.map((e: any) => e.action),
      ['agent.registered', 'request.sent', 'grant.created'],
    );

    const verify = await b.api.get('/api/me/audit/verify');
    assert.deepEqual(verify.body, { valid: true, entries: 9, head: entries[8].hash, broken_at_seq: null });
  });

  test('pagination follows the chain', async () => {
    const a = await register(t.url);
    for (let i = 0; i < 4; i++) await a.api.put('/api/me/capabilities', { capabilities: [{ id: `c${i}`, title: 'C' }] });
    const p1 = await a.api.get('/api/me/audit?limit=3');
    const p2 = await a.api.get(`/api/me/audit?limit=3&cursor=${p1.body.next_cursor}`);
    assert.deepEqual(
      [...p1.body.entries, ...p2.body.entries].map((e: any) => e.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(p2.body.next_cursor, null);
  });

  test('a tampered entry breaks verification from that entry on', async () => {
    const a = await register(t.url);
    const b = await register(t.url);
    await connect(a, b);
    await b.api.del(`/api/authorizations/${a.id}`);
    assert.equal((await b.api.get('/api/me/audit/verify')).body.valid, true);

    // An operator with database access rewrites history: the revoke becomes a harmless scope change.
    await t.sql("UPDATE audit_log SET action = 'grant.scopes_changed' WHERE agent_id = ? AND seq = 3", b.id);
    const tampered = await b.api.get('/api/me/audit/verify');
    assert.equal(tampered.body.valid, false);
    assert.equal(tampered.body.broken_at_seq, 3);

    // Deleting an entry is caught too.
    await t.sql('DELETE FROM audit_log WHERE agent_id = ? AND seq = 1', a.id);
    assert.equal((await a.api.get('/api/me/audit/verify')).body.broken_at_seq, 2);
  });
});

describe('restart', () => {
  test('a restart on the same data dir keeps agents, keys, grants, messages, receipts and the audit chain', async () => {
    const t = await startServer();
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b, ['message', 'scheduling']);
      const sent = await a.api.post('/api/messages', { recipient_id: b.id, subject: 's', body: 'survives', client_id: 'c-1' });
      await b.api.get('/api/inbox');
      await b.api.put('/api/me/capabilities', { capabilities: [{ id: 'scheduling', title: 'Calendar' }] });
      const before = {
        peers: (await a.api.get('/api/peers')).body,
        inbox: (await b.api.get('/api/inbox')).body,
        outbox: (await a.api.get('/api/outbox')).body,
        audit: (await b.api.get('/api/me/audit')).body,
        caps: (await b.api.get(`/api/agents/${b.id}/capabilities`)).body,
      };

      await t.restart();
      const { client } = await import('../helpers/server.js');
      const [a2, b2] = [client(t.url, a.key), client(t.url, b.key)];
      assert.deepEqual((await a2.get('/api/peers')).body, before.peers);
      assert.deepEqual((await b2.get('/api/inbox')).body, before.inbox);
      assert.deepEqual((await a2.get('/api/outbox')).body, before.outbox);
      assert.deepEqual((await b2.get('/api/me/audit')).body, before.audit);
      assert.deepEqual((await b2.get(`/api/agents/${b.id}/capabilities`)).body, before.caps);
      assert.equal((await b2.get('/api/me/audit/verify')).body.valid, true);
      const retry = await a2.post('/api/messages', { recipient_id: b.id, subject: 's', body: 'survives', client_id: 'c-1' });
      assert.equal(retry.body.id, sent.body.id, 'idempotency survives the restart');
      const reply = await b2.post('/api/messages', { recipient_id: a.id, body: 'still here', reply_to_id: sent.body.id, scope: 'message' });
      assert.equal(reply.body.thread_id, sent.body.thread_id);
    } finally {
      await t.close();
    }
  });
});
