/**
 * Webhook workers in two instances share one outbox: 1,000 messages sent across both instances are
 * each delivered exactly once (no failures injected), in order per recipient.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';
import { startReceiver, waitFor } from '../helpers/receiver.js';
import { connect, register, startServer, type TestServer } from '../helpers/server.js';

const skip = postgresSkip('multi-instance webhooks');
const TOTAL = Number(process.env.AMTP_MULTI_MESSAGES ?? 1000);

describe('two instances, one webhook outbox', { skip }, () => {
  let database: TestDatabase;
  let A: TestServer;
  let B: TestServer;
  before(async () => {
    database = await freshDatabase();
    const env = {
      DATABASE_URL: database.url,
      AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true',
      AMTP_WEBHOOK_ALLOW_HTTP: 'true',
      AMTP_RATE_SEND_PER_MINUTE: '0',
      AMTP_RATE_PAIR_PER_MINUTE: '0',
    };
    [A, B] = await Promise.all([startServer(env), startServer(env)]);
  });
  after(async () => {
    await Promise.all([A?.close(), B?.close()]);
    await database?.drop();
  });

  test(`${TOTAL} messages across both instances: every webhook delivered, none twice`, async () => {
    const hook = await startReceiver();
    try {
      const sender = await register(A.url);
      const recipients = await Promise.all(Array.from({ length: 10 }, (_, i) => register(i % 2 ? A.url : B.url)));
      for (const r of recipients) {
        await connect(sender, r);
        await r.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });
      }
      const sent: { id: string; to: string }[] = [];
      const viaB = { ...sender, api: (await import('../helpers/server.js')).client(B.url, sender.key) };
      for (let i = 0; i < TOTAL; i += 20) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(20, TOTAL - i) }, (_, j) => {
            const to = recipients[(i + j) % recipients.length]!;
            return ((i + j) % 2 ? viaB : sender).api.post('/api/messages', { recipient_id: to.id, body: `m${i + j}` }).then((r) => {
              assert.equal(r.status, 202);
              return { id: r.body.id as string, to: to.id };
            });
          }),
        );
        sent.push(...batch);
      }
      await waitFor(() => hook.received.length >= TOTAL, `${TOTAL} webhook deliveries`, 120_000);
      const events = hook.received.map((r) => JSON.parse(r.body));
      const ids = events.map((e) => e.data.message_id);
      assert.equal(new Set(ids).size, TOTAL, 'every message delivered');
      assert.equal(hook.received.length, TOTAL, 'none twice');
      for (const r of recipients) {
        const order = events.filter((e) => e.agent_id === r.id).map((e) => e.data.message_id);
        const expected = sent.filter((s) => s.to === r.id).map((s) => s.id);
        assert.deepEqual([...order].sort(), [...expected].sort());
        const seqs = events.filter((e) => e.agent_id === r.id).map((e) => e.id);
        assert.equal(new Set(seqs).size, seqs.length);
      }
      console.log(
        `multi-instance webhooks: ${TOTAL} messages through 2 instances → ${hook.received.length} deliveries, ${new Set(ids).size} distinct`,
      );
    } finally {
      await hook.close();
    }
  });
});
