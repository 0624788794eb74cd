/**
 * The webhook delivery contract under failing receivers (SPEC §8.2): first attempts go out in order;
 * a failed delivery steps out of line and is retried on its own, so it never holds back the events
 * behind it; a poison event that is never accepted is dead-lettered without disabling an endpoint
 * that accepts everything else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, register, startServer, type TestServer } from '../helpers/server.js';
import { startReceiver, waitFor } from '../helpers/receiver.js';

const LOOPBACK = { AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true', AMTP_WEBHOOK_ALLOW_HTTP: 'true' };

describe('webhook delivery contract under failing receivers', () => {
  let t: TestServer;
  before(async () => (t = await startServer({ ...LOOPBACK, AMTP_WEBHOOK_RETRY_SCHEDULE: '1,1' })));
  after(() => t.close());

  const body = (raw: string) => JSON.parse(raw) as { id: string; seq: number; data: { message: { body: string } } };

  test('a failed delivery steps aside: the events behind it are delivered first, the retry after, same webhook-id', async () => {
    let failedOnce = false;
    const hook = await startReceiver((_, raw) => {
      if (body(raw).data.message.body === 'm0' && !failedOnce) return ((failedOnce = true), 500);
      return 200;
    });
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      await b.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });
      for (let i = 0; i < 4; i++) assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body: `m${i}` })).status, 202);
      await waitFor(() => hook.accepted().length === 4, 'all four accepted');
      const accepted = hook.accepted().map((r) => body(r.body));
      assert.deepEqual(
        accepted.map((e) => e.data.message.body),
        ['m1', 'm2', 'm3', 'm0'],
        'in order, the failed one after the rest',
      );
      const bySeq = [...accepted].sort((x, y) => x.seq - y.seq);
      assert.deepEqual(
        bySeq.map((e) => e.data.message.body),
        ['m0', 'm1', 'm2', 'm3'],
        "every body carries its event's seq, which restores the order",
      );
      const failed = hook.received.find((r) => r.status === 500)!;
      assert.equal(failed.headers['webhook-id'], hook.accepted()[3]!.headers['webhook-id'], 'the retry carries the same webhook-id');
    } finally {
      await hook.close();
    }
  });

  test('an event the receiver never accepts is dead-lettered; the endpoint, which accepts the rest, stays enabled', async () => {
    const hook = await startReceiver((_, raw) => (body(raw).data.message.body === 'poison' ? 500 : 200));
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      await b.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });
      await a.api.post('/api/messages', { recipient_id: b.id, body: 'poison' });
      await a.api.post('/api/messages', { recipient_id: b.id, body: 'fine' });
      const dead = await waitFor(async () => (await b.api.get('/api/me/webhook/deliveries?status=dead')).body.deliveries[0], 'dead letter');
      assert.equal(dead.attempts, 3);
      assert.equal(hook.accepted().length, 1);
      const webhook = (await b.api.get('/api/me/webhook')).body;
      assert.equal(webhook.enabled, true, 'one bad event does not disable a working endpoint');
      assert.deepEqual((await b.api.get('/api/me')).body.notices, []);
      await a.api.post('/api/messages', { recipient_id: b.id, body: 'still flowing' });
      await waitFor(() => hook.accepted().length === 2, 'later events still delivered');
    } finally {
      await hook.close();
    }
  });
});
