/**
 * Processed receipts (issue 18 §4) and the triage digest (§1) through REST and the SDK: a receipt
 * signed by the recipient's client and verified by the sender's; the digest grouping unread mail by
 * peer and thread with counts, span, intents, scopes, nearest deadline and flags, ranked by the
 * documented rule; sealed mail shown as metadata by the server and with snippets by the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AmtpClient } from '../../src/client/client.js';
import { SecureMailbox, type PinnedKeys } from '../../src/client/secure.js';
import { generateEncryptionKeyPair } from '../../src/crypto/seal.js';
import { generateSigningKeyPair } from '../../src/crypto/sign.js';
import { signReceipt } from '../../src/crypto/receipt.js';
import type { DigestOutput, Message } from '../../src/protocol/schemas.js';
import { ManualClock } from '../helpers/clock.js';
import { client, connect, register, startServer, type TestServer } from '../helpers/server.js';
import { eventsOf } from './helpers.js';

const today = new Date().toISOString().slice(0, 10);

describe('processed receipts and the triage digest', () => {
  // Today 09:00 UTC: "today" for the digest (UTC, no quiet hours set) runs to midnight.
  const clock = new ManualClock(`${today}T09:00:00Z`);
  let t: TestServer;
  before(async () => {
    t = await startServer({}, { clock });
  });
  after(() => t.close());

  let n = 0;
  /** An agent with signing and encryption keys, acting through SecureMailbox (signs, seals, verifies, opens). */
  const secureAgent = async () => {
    const signing = generateSigningKeyPair();
    const encryption = generateEncryptionKeyPair();
    const name = `att-${process.pid}-${++n}`;
    const out = await new AmtpClient({ baseUrl: t.url }).register({
      name,
      public_key: signing.publicKey,
      encryption_key: encryption.publicKey,
    });
    const sdk = new AmtpClient({ baseUrl: t.url, apiKey: out.api_key });
    const pins = new Map<string, PinnedKeys>();
    const box = new SecureMailbox(
      sdk,
      { agent_id: out.agent_id, delivery_secret: out.delivery_secret, signing, encryption },
      { get: (id) => pins.get(id), set: (id, k) => void pins.set(id, k) },
    );
    return { id: out.agent_id, name, key: out.api_key, signing, sdk, box, api: client(t.url, out.api_key) };
  };

  test('a processed receipt signed by the recipient’s client is verified by the sender’s; the sender sees the outcome and hears message.processed', async () => {
    const [a, b] = [await secureAgent(), await secureAgent()];
    await connect(a, b);
    const sent = await a.box.send({ recipient_id: b.id, body: 'please pay invoice 42', scope: 'message' });

    const unsigned = await b.api.post(`/api/messages/${sent.id}/processed`, { outcome: 'done' });
    assert.equal(unsigned.status, 400);
    assert.equal(unsigned.body.error.code, 'signature_required', 'a recipient with a signing key must sign its receipt');
    const forged = await b.api.post(`/api/messages/${sent.id}/processed`, {
      outcome: 'done',
      ed25519_signature: signReceipt(
        { message_id: sent.id, sender_id: a.id, recipient_id: b.id, outcome: 'failed', signed_at: new Date().toISOString() },
        b.signing.secretKey,
      ),
      signed_at: new Date().toISOString(),
    });
    assert.equal(forged.body.error.code, 'invalid_signature', 'the signature must cover the outcome sent');
    const stale = await b.api.post(`/api/messages/${sent.id}/processed`, {
      outcome: 'done',
      ed25519_signature: 'x',
      signed_at: '2020-01-01T00:00:00Z',
    });
    assert.equal(stale.body.error.code, 'stale_signature');

    const acked = await b.box.ack(sent.id, { outcome: 'done', note: 'paid, ref 7781' });
    assert.equal(acked.processed?.outcome, 'done');
    assert.equal(acked.status, 'read', 'processing a message reads it');

    const seen = await a.box.message(sent.id);
    assert.equal(seen.processed?.outcome, 'done');
    assert.equal(seen.processed?.note, 'paid, ref 7781');
    assert.equal(
      await a.box.receiptStatus(seen),
      'verified',
      'the sender’s client verifies the receipt against the recipient’s pinned key',
    );
    const [event] = await eventsOf(t, a.id, 'message.processed');
    assert.equal(event?.message_id, sent.id);
    assert.equal(event?.outcome, 'done');

    const again = await b.api.post(`/api/messages/${sent.id}/processed`, { outcome: 'failed' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'already_processed');
    assert.equal(
      (await a.api.post(`/api/messages/${sent.id}/processed`, { outcome: 'done' })).body.error.code,
      'message_not_found',
      'only the recipient acknowledges',
    );

    // Altered on the server after the fact: the sender's client notices.
    await t.sql('UPDATE messages SET processed = ? WHERE id = ?', JSON.stringify({ ...seen.processed, outcome: 'declined' }), sent.id);
    assert.equal(await a.box.receiptStatus(await a.box.message(sent.id)), 'failed');
  });

  test('an agent without a signing key acknowledges unsigned; its sender sees `unsigned`', async () => {
    const a = await secureAgent();
    const b = await register(t.url);
    await connect(a, b);
    const sent = await a.box.send({ recipient_id: b.id, body: 'fyi', scope: 'message' });
    const acked = await b.api.post<Message>(`/api/messages/${sent.id}/processed`, { outcome: 'declined', note: 'not mine' });
    assert.equal(acked.status, 200);
    assert.equal(acked.body.processed?.ed25519_signature, null);
    assert.equal(await a.box.receiptStatus(await a.box.message(sent.id)), 'unsigned');
  });

  test('the digest groups unread mail by peer and thread, ranks it by the documented rule, and adds snippets for sealed mail on the client', async () => {
    const me = await secureAgent();
    const [late, forger, asker, rekeyed, quiet, early] = [
      await secureAgent(),
      await secureAgent(),
      await secureAgent(),
      await secureAgent(),
      await register(t.url),
      await register(t.url),
    ];
    for (const peer of [late, forger, rekeyed, quiet, early]) await connect(peer, me, ['message', 'scheduling']);
    await early.api.post('/api/messages', { recipient_id: me.id, body: 'oldest, no flags' });
    await quiet.api.post('/api/messages', { recipient_id: me.id, body: 'newer, no flags' });
    const due = (hours: number) => new Date(clock.now() + hours * 3_600_000).toISOString();
    const laterThread = await quiet.api.post('/api/messages', {
      recipient_id: me.id,
      subject: 'next week',
      body: 'can we meet?',
      scope: 'scheduling',
      reply_by: due(30),
    });
    await late.box.send({ recipient_id: me.id, body: 'sealed: the contract draft', scope: 'message', reply_by: due(5) });
    const tampered = await forger.box.send({ recipient_id: me.id, body: 'signed then altered', scope: 'message' });
    await t.sql('UPDATE messages SET sealed = NULL, body = ? WHERE id = ?', 'altered on the server', tampered.id);
    await rekeyed.box.send({ recipient_id: me.id, body: 'before my key reset', scope: 'message' });
    await rekeyed.api.put('/api/me/keys', { public_key: generateSigningKeyPair().publicKey });
    const request = await asker.api.post('/api/contact-requests', { agent_id: me.id, note: 'hi' });

    const digest = (await me.api.get<DigestOutput>('/api/inbox/digest')).body;
    assert.deepEqual(
      digest.peers.map((p) => [p.peer_name, p.flags]),
      [
        [late.name, ['deadline_today']],
        [forger.name, ['signature_failed']],
        [rekeyed.name, ['keys_changed']],
        [asker.name, ['contact_request']],
        [quiet.name, []], // no flag, but a pending reply-by
        [early.name, []],
      ],
    );
    assert.equal(digest.unread_count, 6);
    assert.equal(digest.held_count, 0);
    const lateGroup = digest.peers[0]!;
    assert.equal(lateGroup.nearest_reply_by, due(5));
    assert.equal(lateGroup.threads[0]!.latest?.sealed, true);
    assert.equal(lateGroup.threads[0]!.latest?.snippet, null, 'the server cannot read sealed mail');
    assert.equal(digest.peers[3]!.contact_request_id, request.body.id);
    assert.deepEqual(digest.peers[3]!.threads, []);
    const quietGroup = digest.peers[4]!;
    assert.equal(quietGroup.unread_count, 2);
    assert.deepEqual(quietGroup.scopes, ['message', 'scheduling']);
    assert.equal(quietGroup.nearest_reply_by, due(30), 'tomorrow: not flagged as today');
    assert.equal(
      quietGroup.threads[0]!.thread_id,
      laterThread.body.thread_id,
      'within a peer, a thread with a deadline ranks before one without',
    );
    assert.equal(quietGroup.threads[0]!.latest?.subject, 'next week');
    assert.equal(quietGroup.threads[1]!.latest?.snippet, 'newer, no flags');
    assert.ok(quietGroup.oldest_at! <= quietGroup.newest_at!);

    const local = await me.box.digest();
    assert.equal(
      local.peers[0]!.threads[0]!.latest?.snippet,
      'sealed: the contract draft',
      'the client opens sealed mail locally for its snippet',
    );
  });
});
