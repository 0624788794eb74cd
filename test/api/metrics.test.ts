/** GET /metrics: the figures operators alert on, scraped as Prometheus would. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../helpers/receiver.js';
import { openStream } from '../helpers/sse.js';
import { connect, register, startServer, untilWaiting } from '../helpers/server.js';
import type { InboxOutput, SendOutput } from '../../src/protocol/schemas.js';

const scrape = async (url: string) => {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const value = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} missing from /metrics`);
    return Number(line.slice(series.length + 1));
  };
  return { text, value };
};

test('metrics: outbox depth, due and dead letters, per-route latency histograms, open streams', async () => {
  const t = await startServer();
  try {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    const store = t.server.core.store;
    const now = new Date().toISOString();
    // B's webhook is disabled right away, so the queued deliveries stay queued whatever the worker does.
    await store.apply([
      {
        op: 'putWebhook',
        webhook: {
          agent_id: b.id,
          url: 'https://hooks.example/b',
          secret: 'whsec_x',
          events: ['message.received'],
          enabled: true,
          disabled_reason: null,
          created_at: now,
          updated_at: now,
        },
      },
    ]);
    for (const body of ['one', 'two', 'three']) assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body })).status, 202);
    await store.apply([{ op: 'disableWebhook', agent_id: b.id, reason: 'test', at: now }]);
    // A disabled webhook is not claimed any more, but a delivery claimed just before may still be in
    // flight and record its outcome over ours: dead-letter one delivery until it stays so.
    await waitFor(async () => {
      const deliveries = await store.deliveries(b.id, { limit: 10 });
      if (deliveries.some((d) => d.lease_until !== null)) return false;
      if (deliveries.filter((d) => d.status === 'dead').length === 1) return true;
      const [newest] = deliveries.filter((d) => d.status === 'pending');
      await store.apply([
        {
          op: 'recordDelivery',
          id: newest!.id,
          status: 'dead',
          attempts: 11,
          next_attempt_at: now,
          last_status: 500,
          last_error: 'gave up',
          at: now,
        },
      ]);
      return false;
    }, 'one dead letter, nothing in flight');

    const stream = await openStream(t.url, b.key);
    try {
      const { text, value } = await scrape(t.url);
      assert.equal(value('amtp_webhook_deliveries_pending'), 2);
      assert.equal(value('amtp_webhook_deliveries_dead'), 1);
      assert.ok(value('amtp_webhook_deliveries_due') <= 2);
      assert.ok(value('amtp_webhook_oldest_pending_age_seconds') >= 0);
      assert.equal(value('amtp_streams_open'), 1);

      const send = 'method="POST",route="/api/messages"';
      assert.equal(value(`amtp_http_request_duration_seconds_count{${send}}`), 3);
      assert.equal(value(`amtp_http_request_duration_seconds_bucket{${send},le="+Inf"}`), 3);
      const buckets = [
        ...text.matchAll(new RegExp(`^amtp_http_request_duration_seconds_bucket\\{${send},le="([^"]+)"\\} (\\d+)$`, 'gm')),
      ].map((m) => Number(m[2]));
      assert.ok(buckets.length > 5);
      assert.deepEqual(
        buckets,
        [...buckets].sort((x, y) => x - y),
        'buckets are cumulative',
      );
      assert.ok(value(`amtp_http_request_duration_seconds_sum{${send}}`) > 0);
      assert.match(
        text,
        /^amtp_http_request_duration_seconds_count\{method="POST",route="\/api\/contact-requests\/:id\/approve"\} 1$/m,
        'route templates, not raw ids',
      );
      assert.doesNotMatch(text, new RegExp(a.id), 'no per-agent data');
    } finally {
      stream.close();
    }
  } finally {
    await t.close();
  }
});

test('metrics: long-polls waiting for mail on this instance', async () => {
  const t = await startServer();
  try {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    assert.equal((await scrape(t.url)).value('amtp_long_polls_waiting'), 0);
    const poll = b.api.get<InboxOutput>('/api/inbox?unread_only=true&wait=30');
    await untilWaiting(t.server, b.id);
    assert.equal((await scrape(t.url)).value('amtp_long_polls_waiting'), 1);
    const sent = await a.api.post<SendOutput>('/api/messages', { recipient_id: b.id, body: 'wake up' });
    assert.deepEqual(
      (await poll).body.messages.map((m) => m.id),
      [sent.body.id],
    );
    assert.equal((await scrape(t.url)).value('amtp_long_polls_waiting'), 0);
  } finally {
    await t.close();
  }
});
