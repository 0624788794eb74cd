/**
 * SecureMailbox.receiveAll: one message that cannot be received (altered after the server MAC'd it)
 * comes back withheld and `failed`, with the reason; the others are opened and verified as usual.
 * Typed sealed intents are checked without code generation (no eval: the web UI's CSP forbids it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AmtpClient } from '../../src/client/client.js';
import { SecureMailbox, type PinnedKeys } from '../../src/client/secure.js';
import { generateEncryptionKeyPair } from '../../src/crypto/seal.js';
import { generateSigningKeyPair } from '../../src/crypto/sign.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('SecureMailbox.receiveAll isolates failures', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  const agent = async (name: string) => {
    const signing = generateSigningKeyPair();
    const encryption = generateEncryptionKeyPair();
    const out = await new AmtpClient({ baseUrl: t.url }).register({
      name,
      public_key: signing.publicKey,
      encryption_key: encryption.publicKey,
    });
    const client = new AmtpClient({ baseUrl: t.url, apiKey: out.api_key });
    const pins = new Map<string, PinnedKeys>();
    return {
      id: out.agent_id,
      client,
      box: new SecureMailbox(
        client,
        { agent_id: out.agent_id, delivery_secret: out.delivery_secret, signing, encryption },
        { get: (id) => pins.get(id), set: (id, k) => void pins.set(id, k) },
      ),
    };
  };

  test('an altered message is withheld and failed; the rest are opened, verified and intent-checked', async () => {
    const [a, b] = [await agent('iso-a'), await agent('iso-b')];
    const req = await a.client.requestContact({ agent_id: b.id, scopes: ['message', 'scheduling'] });
    await b.client.approve(req.id, ['message', 'scheduling']);
    const schema = { type: 'object', properties: { minutes: { type: 'integer', minimum: 5 } }, required: ['minutes'] };
    await b.client.setCapabilities([{ id: 'scheduling', title: 'Scheduling', input_schema: schema }]);
    await a.box.send({ recipient_id: b.id, body: 'first', scope: 'message' });
    await a.box.send({ recipient_id: b.id, body: 'second', scope: 'message' });
    await a.box.send({ recipient_id: b.id, scope: 'scheduling', intent: 'scheduling', payload: { minutes: 2 } });
    const { messages } = await b.client.conversation(a.id);
    const altered = messages.map((m) => (m.body === null && m.intent === null && m === messages[1] ? { ...m, scope: 'scheduling' } : m));
    const received = await b.box.receiveAll(altered);
    assert.equal(received.length, 3);
    const [typed, hidden, kept] = received;
    assert.equal(b.box.signatureOf(kept!), 'verified');
    assert.equal(kept!.body, 'first');
    assert.equal(b.box.signatureOf(hidden!), 'failed');
    assert.match(b.box.failureOf(hidden!) ?? '', /delivery MAC/);
    assert.equal(hidden!.body, null, 'nothing unverified is shown');
    assert.equal(b.box.signatureOf(typed!), 'verified');
    assert.deepEqual(typed!.payload, { minutes: 2 });
    assert.match(b.box.intentProblemOf(typed!) ?? '', /does not match the "scheduling" schema: \/minutes .*5/);
  });
});
