import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AmtpApiError, AmtpClient, verifyWebhook } from '../../src/client/index.js';
import { webhookHeaders } from '../../src/crypto/standard-webhooks.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('SDK: AmtpClient', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  test('drives the API end to end with typed results and typed errors', async () => {
    const anon = new AmtpClient({ baseUrl: t.url });
    const ra = await anon.register({ name: 'sdk-jane' });
    const rb = await anon.register({ name: 'sdk-bob' });
    const jane = new AmtpClient({ baseUrl: t.url, apiKey: ra.api_key });
    const bob = new AmtpClient({ baseUrl: t.url, apiKey: rb.api_key });

    const refused = await jane.send({ recipient_id: 'sdk-bob', body: 'hi' }).catch((e) => e);
    assert.ok(refused instanceof AmtpApiError);
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'not_authorized');

    const req = await jane.requestContact({ agent_id: 'sdk-bob' });
    assert.deepEqual(
      (await bob.listRequests({ direction: 'incoming' })).map((r) => r.id),
      [req.id],
    );
    await bob.approve(req.id);
    assert.equal((await jane.peers())[0]!.state, 'mutual');

    const sent = await jane.send({ recipient_id: 'sdk-bob', subject: 's', body: 'hello from the SDK' });
    const events = bob.stream({ lastEventId: 1 }); // after bob's contact_request.received
    const first = await events.next();
    assert.equal(first.value?.type, 'message.received');
    assert.equal(first.value?.data.message_id, sent.id);
    await events.return(undefined);

    const inbox = await bob.inbox({ unread_only: true });
    assert.equal(inbox.messages[0]!.id, sent.id);
    await bob.markRead(sent.id);
    assert.equal((await jane.message(sent.id)).status, 'read');
    assert.equal((await jane.conversations())[0]!.peer_name, 'sdk-bob');
    assert.equal((await bob.verifyAudit()).valid, true);

    const offline = new AmtpClient({ baseUrl: 'http://127.0.0.1:1' });
    const down = await offline.whoami().catch((e) => e);
    assert.equal(down.code, 'network_error');
  });

  test('exports a Standard Webhooks verifier', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const now = Math.floor(Date.now() / 1000);
    assert.equal(verifyWebhook(secret, webhookHeaders(secret, 'evt_1', now, '{}'), '{}'), true);
  });
});
