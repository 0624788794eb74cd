import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { connect, register, startServer } from '../helpers/server.js';
import { startReceiver, waitFor } from '../helpers/receiver.js';

const LOOPBACK = { AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true', AMTP_WEBHOOK_ALLOW_HTTP: 'true' };

describe('webhooks', () => {
  test('the default configuration refuses loopback and private targets', async () => {
    const t = await startServer();
    const receiver = await startReceiver();
    try {
      const a = await register(t.url);
      for (const url of [
        receiver.url,
        receiver.url.replace('http:', 'https:'),
        'https://10.0.0.1/hook',
        'https://[::1]/hook',
        'https://169.254.169.254/latest',
      ]) {
        const res = await a.api.put('/api/me/webhook', { url });
        assert.equal(res.status, 422, url);
        assert.equal(res.body.error.code, 'invalid_webhook_url');
        assert.ok(res.body.error.reason);
      }
      assert.equal(receiver.received.length, 0);
    } finally {
      await receiver.close();
      await t.close();
    }
  });

  test('every delivery verifies with the standardwebhooks library; read receipts reach the sender', async () => {
    const t = await startServer(LOOPBACK);
    const hookB = await startReceiver();
    const hookA = await startReceiver();
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      const setB = await b.api.put('/api/me/webhook', { url: hookB.url });
      assert.equal(setB.status, 200);
      assert.match(setB.body.secret, /^whsec_/);
      assert.equal(setB.body.enabled, true);
      assert.equal((await b.api.get('/api/me/webhook')).body.secret, undefined, 'the secret is shown once');
      const setA = await a.api.put('/api/me/webhook', { url: hookA.url, events: ['message.read', 'contact_request.approved'] });

      const req = await a.api.post('/api/contact-requests', { agent_id: b.id });
      await b.api.post(`/api/contact-requests/${req.body.id}/approve`);
      const sent = await a.api.post('/api/messages', { recipient_id: b.id, subject: 'hi', body: 'webhook me' });
      await waitFor(() => hookB.received.length >= 2, 'two deliveries to B');
      const verifierB = new Webhook(setB.body.secret);
      const events = hookB.received.map((r) => verifierB.verify(r.body, r.headers as Record<string, string>) as any);
      assert.deepEqual(
        events.map((e) => e.type),
        ['contact_request.received', 'message.received'],
      );
      assert.equal(events[1].data.message.id, sent.body.id);
      assert.equal(events[1].data.message.body, 'webhook me');
      assert.equal(events[1].data.message.untrusted, true);
      assert.equal(hookB.received[1]!.headers['webhook-id'], events[1].id);

      await waitFor(async () => (await a.api.get(`/api/messages/${sent.body.id}`)).body.status === 'delivered', 'delivered receipt');
      await b.api.post(`/api/messages/${sent.body.id}/read`);
      await waitFor(() => hookA.received.length >= 2, 'approved + read to A');
      const verifierA = new Webhook(setA.body.secret);
      const toA = hookA.received.map((r) => verifierA.verify(r.body, r.headers as Record<string, string>) as any);
      assert.deepEqual(
        toA.map((e) => e.type),
        ['contact_request.approved', 'message.read'],
      );
      assert.equal(toA[1].data.message_id, sent.body.id);

      const ping = await b.api.post('/api/me/webhook/test');
      assert.deepEqual(ping.body, { ok: true, status: 200, error: null });
      const audit = await b.api.get('/api/me/audit');
      assert.ok(audit.body.entries.some((e: any) => e.action === 'webhook.changed'));
    } finally {
      await hookA.close();
      await hookB.close();
      await t.close();
    }
  });

  test('receiver down for a while, then up: every event arrives once, in seq order when sorted, with stable ids', async () => {
    const t = await startServer({
      ...LOOPBACK,
      AMTP_WEBHOOK_RETRY_SCHEDULE: '0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05,0.05',
    });
    let up = false;
    const hook = await startReceiver(() => (up ? 200 : 503));
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      await b.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await a.api.post('/api/messages', { recipient_id: b.id, body: `m${i}` })).body.id);
      await waitFor(() => hook.received.length >= 3, 'failed attempts while down');
      up = true;
      await waitFor(() => hook.accepted().length >= 5, 'all five delivered');
      // Failed deliveries step aside and are retried on their own (SPEC §8.2): the body's seq restores the order.
      const accepted = hook.accepted().map((r) => JSON.parse(r.body));
      assert.deepEqual(
        accepted.sort((x, y) => x.seq - y.seq).map((e) => e.data.message_id),
        ids,
        'in order of creation by seq',
      );
      const acceptedIds = new Set(hook.accepted().map((r) => r.headers['webhook-id']));
      const failedIds = hook.received.filter((r) => r.status === 503).map((r) => r.headers['webhook-id']);
      assert.ok(
        failedIds.every((id) => acceptedIds.has(id)),
        'retries reuse the webhook-id',
      );
      assert.equal(acceptedIds.size, 5, 'no event delivered twice');
      // The receiver has answered; the server records the outcome right after.
      const log = await waitFor(async () => {
        const deliveries = (await b.api.get('/api/me/webhook/deliveries')).body.deliveries;
        return deliveries.every((d: any) => d.status === 'delivered') && deliveries;
      }, 'deliveries recorded as delivered');
      assert.ok(log.at(-1).attempts > 1);
    } finally {
      await hook.close();
      await t.close();
    }
  });

  test('410 Gone disables the endpoint with an audit entry and a notice; setting it again resumes', async () => {
    const t = await startServer(LOOPBACK);
    let gone = true;
    const hook = await startReceiver(() => (gone ? 410 : 200));
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      await b.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });
      const sent = await a.api.post('/api/messages', { recipient_id: b.id, body: 'anyone there?' });
      const me = await waitFor(async () => {
        const res = await b.api.get('/api/me');
        return res.body.notices.length ? res.body : null;
      }, 'disabled notice');
      assert.match(me.notices[0], /410 Gone/);
      assert.equal((await b.api.get('/api/me/webhook')).body.enabled, false);
      const audit = await b.api.get('/api/me/audit');
      assert.ok(audit.body.entries.some((e: any) => e.action === 'webhook.changed' && e.details.by === 'server'));
      gone = false;
      await b.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });
      await waitFor(() => hook.accepted().length === 1, 'delivery after re-enable');
      assert.equal(JSON.parse(hook.accepted()[0]!.body).data.message_id, sent.body.id);
    } finally {
      await hook.close();
      await t.close();
    }
  });

  test('exhausted retries dead-letter the event and disable the webhook; redeliver re-queues it', async () => {
    const t = await startServer({ ...LOOPBACK, AMTP_WEBHOOK_RETRY_SCHEDULE: '0.01,0.01' });
    let failing = true;
    const hook = await startReceiver(() => (failing ? 500 : 200));
    try {
      const [a, b] = [await register(t.url), await register(t.url)];
      await connect(a, b);
      await b.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });
      await a.api.post('/api/messages', { recipient_id: b.id, body: 'doomed' });
      const dead = await waitFor(async () => (await b.api.get('/api/me/webhook/deliveries?status=dead')).body.deliveries[0], 'dead letter');
      assert.equal(dead.attempts, 3);
      assert.equal(dead.last_status, 500);
      assert.equal(hook.received.length, 3);
      assert.match((await b.api.get('/api/me')).body.notices[0], /3 delivery attempts failed/);
      failing = false;
      assert.deepEqual((await b.api.post(`/api/me/webhook/deliveries/${dead.id}/redeliver`)).body, { queued: true });
      await b.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });
      await waitFor(() => hook.accepted().length === 1, 'redelivered');
      assert.equal(hook.accepted()[0]!.headers['webhook-id'], dead.id);
      assert.equal((await b.api.post('/api/me/webhook/deliveries/evt_nope/redeliver')).status, 404);
      assert.deepEqual((await b.api.del('/api/me/webhook')).body, { deleted: true });
      assert.equal((await b.api.get('/api/me/webhook')).body.error.code, 'webhook_not_found');
    } finally {
      await hook.close();
      await t.close();
    }
  });
});
