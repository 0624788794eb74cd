import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from './standard-webhooks.js';

test('the Standard Webhooks known-answer example passes through our signer', () => {
  const signature = signWebhook(
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    'msg_p5jXN8AQM9LWM0D4loKWxJek',
    1614265330,
    '{"test": 2432232314}',
  );
  assert.equal(signature, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
});

test('our headers verify with the reference library, and its signatures verify with ours', () => {
  const secret = generateWebhookSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  const body = JSON.stringify({ type: 'message.received', data: { id: 'x', text: 'héllo ✓' } });
  const now = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders(secret, 'evt_1', now, body);
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));

  const theirs = new Webhook(secret).sign('evt_2', new Date(now * 1000), body);
  assert.equal(
    verifyWebhook(secret, { 'webhook-id': 'evt_2', 'webhook-timestamp': String(now), 'webhook-signature': `v1,bogus ${theirs}` }, body),
    true,
  );
});

test('tampering, a wrong secret and stale timestamps are refused', () => {
  const secret = generateWebhookSecret();
  const now = 1_700_000_000;
  const headers = webhookHeaders(secret, 'evt_1', now, '{"a":1}');
  assert.throws(() => verifyWebhook(secret, headers, '{"a":2}', { now }), /no matching signature/);
  assert.throws(() => verifyWebhook(generateWebhookSecret(), headers, '{"a":1}', { now }), /no matching signature/);
  assert.throws(() => verifyWebhook(secret, headers, '{"a":1}', { now: now + 301 }), /tolerance/);
  assert.throws(() => verifyWebhook(secret, { ...headers, 'webhook-id': undefined }, '{"a":1}', { now }), /missing/);
  assert.equal(verifyWebhook(secret, headers, '{"a":1}', { now: now + 299 }), true);
});
