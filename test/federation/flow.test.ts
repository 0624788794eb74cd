/**
 * Two real servers, A and B (in the PostgreSQL pass, B on PostgreSQL), each its own process and data:
 * the whole federated flow through the public REST API — discovery, consent across servers, messages
 * and replies, read receipts, scopes, revoke, decline, unknown handles — and B stopped for a while.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backend, client, register, type TestAgent } from '../helpers/server.js';
import { postgresSkip } from '../helpers/postgres.js';
import { waitFor } from '../helpers/receiver.js';
import { startNode, type Node } from './nodes.js';
import { AmtpClient } from '../../src/client/client.js';
import { SecureMailbox, type PinnedKeys } from '../../src/client/secure.js';
import { generateSigningKeyPair } from '../../src/crypto/sign.js';
import { generateEncryptionKeyPair } from '../../src/crypto/seal.js';
import { mcpClient, type ToolCallResult } from '../helpers/mcp.js';
import { amtp } from '../helpers/cli.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** An agent with keys on `url`, behind a SecureMailbox (signs, seals, verifies, opens; pins keys on first use). */
async function secureAgent(url: string, name: string) {
  const signing = generateSigningKeyPair();
  const encryption = generateEncryptionKeyPair();
  const out = await new AmtpClient({ baseUrl: url }).register({
    name,
    public_key: signing.publicKey,
    encryption_key: encryption.publicKey,
  });
  const pins = new Map<string, PinnedKeys>();
  const client = new AmtpClient({ baseUrl: url, apiKey: out.api_key });
  const box = new SecureMailbox(
    client,
    { agent_id: out.agent_id, delivery_secret: out.delivery_secret, signing, encryption },
    { get: (id) => pins.get(id), set: (id, k) => void pins.set(id, k) },
  );
  return { id: out.agent_id, name, client, box, pins };
}

const skip = backend === 'postgres' ? postgresSkip('federation flow') : undefined;

describe('federation between two server processes', { skip }, () => {
  let A: Node;
  let B: Node;
  before(async () => {
    [A, B] = await Promise.all([startNode(), startNode({}, { postgres: backend === 'postgres' })]);
  });
  after(async () => {
    await Promise.all([A?.close(), B?.close()]);
  });

  /** alice@A and bob@B, mutually authorized across the two servers. */
  async function pair(prefix: string, scopes?: string[]): Promise<{ alice: TestAgent; bob: TestAgent; bobOnA: string; aliceOnB: string }> {
    const [alice, bob] = await Promise.all([register(A.url, `${prefix}-alice`), register(B.url, `${prefix}-bob`)]);
    const req = await alice.api.post('/api/contact-requests', {
      agent_id: B.at(bob.name),
      note: 'hello from A',
      ...(scopes ? { scopes } : {}),
    });
    assert.equal(req.status, 201, JSON.stringify(req.body));
    assert.equal(req.body.to_name, B.at(bob.name));
    const incoming = await waitFor(
      async () => (await bob.api.get('/api/contact-requests?direction=incoming')).body.requests[0],
      'the request on B',
    );
    assert.equal(incoming.from_name, A.at(alice.name));
    assert.equal(incoming.note, 'hello from A');
    const ok = await bob.api.post(`/api/contact-requests/${incoming.id}/approve`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const peer = await waitFor(
      async () => (await alice.api.get('/api/peers')).body.peers.find((p: { state: string }) => p.state === 'mutual'),
      'the approval on A',
    );
    assert.equal(peer.name, B.at(bob.name));
    return { alice, bob, bobOnA: req.body.to_id, aliceOnB: incoming.from_id };
  }

  test('discovery: /.well-known/amtp names the federation endpoint, keys, versions, limits and the spec', async () => {
    const doc = await (await fetch(`${A.url}/.well-known/amtp`)).json();
    assert.equal(doc.federation.domain, A.domain);
    assert.equal(doc.federation.endpoint, `${A.url}/federation/v1`);
    assert.deepEqual(doc.federation.versions, ['1']);
    assert.equal(doc.federation.keys.length, 1);
    assert.equal(doc.federation.keys[0].alg, 'ed25519');
    assert.match(doc.federation.spec, /SPEC\.md#16-federation$/);
    assert.ok(doc.federation.limits.max_message_bytes > 0);
  });

  test('request, approval, a message and its reply, read receipts both ways', async () => {
    const { alice, bob } = await pair('flow');
    const sent = await alice.api.post('/api/messages', { recipient_id: B.at(bob.name), subject: 'hi', body: 'hello bob', client_id: 'c1' });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const got = await waitFor(async () => (await bob.api.get('/api/inbox')).body.messages[0], 'the message on B');
    assert.equal(got.id, sent.body.id, 'the same message id on both servers');
    assert.equal(got.sender_name, A.at(alice.name));
    assert.equal(got.body, 'hello bob');
    // bob's inbox fetch delivered it: the delivery receipt comes back to A.
    const delivered = await waitFor(async () => {
      const m = (await alice.api.get(`/api/messages/${sent.body.id}`)).body;
      return m.status === 'delivered' && m;
    }, 'the delivery receipt on A');
    assert.ok(delivered.delivered_at);

    assert.equal((await bob.api.post(`/api/messages/${got.id}/read`, {})).status, 200);
    const read = await waitFor(async () => {
      const m = (await alice.api.get(`/api/messages/${sent.body.id}`)).body;
      return m.status === 'read' && m;
    }, 'the read receipt on A');
    assert.ok(read.read_at);

    const reply = await bob.api.post('/api/messages', { recipient_id: A.at(alice.name), body: 'hello alice', reply_to_id: got.id });
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const back = await waitFor(async () => (await alice.api.get('/api/inbox')).body.messages[0], 'the reply on A');
    assert.equal(back.reply_to_id, sent.body.id);
    assert.equal(back.thread_id, sent.body.thread_id, 'the reply joins the thread on A');
    assert.equal((await alice.api.post(`/api/messages/${back.id}/read`, {})).status, 200);
    await waitFor(async () => (await bob.api.get(`/api/messages/${reply.body.id}`)).body.status === 'read', 'the read receipt on B');
  });

  test('a scope refused; a revoke takes effect for the very next message', async () => {
    const { alice, bob } = await pair('scope');
    const refused = await alice.api.post('/api/messages', { recipient_id: B.at(bob.name), body: 'x', scope: 'calendar' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'scope_not_granted');
    // A scope change on B travels to A's mirror.
    const extended = await bob.api.post('/api/authorizations', { agent_id: A.at(alice.name), scopes: ['message', 'calendar'] });
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    await waitFor(async () => (await alice.api.get('/api/peers')).body.peers[0]?.their_scopes.includes('calendar'), 'the new scope on A');
    const allowed = await alice.api.post('/api/messages', { recipient_id: B.at(bob.name), body: 'on the calendar', scope: 'calendar' });
    assert.equal(allowed.status, 202);
    assert.equal(
      (await waitFor(async () => (await bob.api.get('/api/inbox')).body.messages[0], 'the calendar message on B')).scope,
      'calendar',
    );
    assert.equal((await bob.api.post(`/api/messages/${allowed.body.id}/read`, {})).status, 200);

    const revoked = await bob.api.del(`/api/authorizations/${encodeURIComponent(A.at(alice.name))}`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    // B, the recipient's server, decides: refused on A at once if the revocation has arrived there, else failed on relay.
    const next = await alice.api.post('/api/messages', { recipient_id: B.at(bob.name), body: 'after the revoke' });
    if (next.status === 202) {
      const failed = await waitFor(async () => {
        const m = (await alice.api.get(`/api/messages/${next.body.id}`)).body;
        return m.status === 'failed' && m;
      }, 'the relay refused by B');
      assert.match(failed.failed_reason, /not_authorized/);
    } else {
      assert.equal(next.status, 403);
      assert.equal(next.body.error.code, 'not_authorized');
    }
    // And once A has heard of the revocation, A refuses at once.
    await waitFor(
      async () => (await alice.api.post('/api/messages', { recipient_id: B.at(bob.name), body: 'again' })).status === 403,
      'the revocation mirrored on A',
    );
    assert.equal((await bob.api.get('/api/inbox?unread_only=true')).body.messages.length, 0);
  });

  test('B stopped for a while: messages stay queued and retry, then arrive in order, once each', async () => {
    const { alice, bob } = await pair('outage');
    await B.stop();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const sent = await alice.api.post('/api/messages', { recipient_id: B.at(bob.name), body: `while down ${i}` });
      assert.equal(sent.status, 202);
      ids.push(sent.body.id);
    }
    await waitFor(
      () => A.query("SELECT 1 FROM outbox WHERE kind = 'federation' AND status = 'pending' AND attempts >= 1").length > 0,
      'a failed attempt on A',
    );
    for (const id of ids) assert.equal((await alice.api.get(`/api/messages/${id}`)).body.status, 'queued');
    await B.start();
    const inbox = await waitFor(
      async () => {
        const got = (await bob.api.get('/api/inbox?unread_only=false&limit=50')).body.messages;
        return got.length >= 3 && got;
      },
      'the messages on B after its return',
      20_000,
    );
    assert.deepEqual(
      inbox.map((m: { id: string }) => m.id),
      ids,
      'in order, once each',
    );
    await waitFor(async () => {
      const statuses = await Promise.all(ids.map(async (id) => (await alice.api.get(`/api/messages/${id}`)).body.status));
      return statuses.every((s) => s === 'relayed' || s === 'delivered' || s === 'read');
    }, 'relayed on A');
  });

  test('SDK (SecureMailbox): signed and sealed both ways, verified and opened by the recipients, no plaintext on the servers', async () => {
    const [alice, bob] = await Promise.all([secureAgent(A.url, 'sdk-alice'), secureAgent(B.url, 'sdk-bob')]);
    const req = await alice.box.requestContact({ agent_id: B.at('sdk-bob') });
    const incoming = (await waitFor(async () => (await bob.box.listRequests({ direction: 'incoming' }))[0], 'the request on B'))!;
    await bob.box.approve(incoming.id);
    await waitFor(async () => (await alice.box.peers()).some((p) => p.state === 'mutual'), 'the approval on A');

    const sent = await alice.box.sendReporting({
      recipient_id: B.at('sdk-bob'),
      scope: 'message',
      subject: 'sealed subject',
      body: 'the secret plan',
    });
    assert.deepEqual([sent.sealed, sent.signed], [true, true]);
    const got = (await waitFor(async () => (await bob.box.inbox({})).messages[0], 'the sealed message on B'))!;
    assert.equal(got.body, 'the secret plan');
    assert.equal(got.subject, 'sealed subject');
    assert.equal(bob.box.signatureOf(got), 'verified');
    assert.equal(got.sender_address, A.at('sdk-alice'));

    await bob.box.send({ recipient_id: A.at('sdk-alice'), scope: 'message', body: 'a sealed answer', reply_to_id: got.id });
    const answer = (await waitFor(async () => (await alice.box.inbox({})).messages[0], 'the sealed reply on A'))!;
    assert.equal(answer.body, 'a sealed answer');
    assert.equal(alice.box.signatureOf(answer), 'verified');
    // The sender reads its own sealed copy too.
    assert.equal((await alice.box.message(sent.sent.id)).body, 'the secret plan');

    // What the servers hold: the envelope only (A's database read directly; B's answer without keys).
    assert.deepEqual(
      A.query("SELECT id FROM messages WHERE body LIKE '%secret plan%' OR subject LIKE '%sealed subject%' OR body LIKE '%sealed answer%'"),
      [],
    );
    const raw = await bob.client.message(got.id);
    assert.equal(raw.body, null);
    assert.ok(raw.sealed);
    assert.ok(req.id);
  });

  test('MCP (/mcp on each server): a request, a message and the answer between servers', async () => {
    const [carol, dave] = await Promise.all([register(A.url, 'mcp-carol'), register(B.url, 'mcp-dave')]);
    const mcp = await mcpClient(A.url, carol.key);
    try {
      const asked = await mcp.call('a2a_request_contact', { agent_id: B.at(dave.name), note: 'via MCP' });
      assert.equal(asked.isError, undefined, asked.text);
      assert.equal(asked.data.to_name, B.at(dave.name));
      const incoming = await waitFor(
        async () => (await dave.api.get('/api/contact-requests?direction=incoming')).body.requests[0],
        'the request on B',
      );
      assert.equal((await dave.api.post(`/api/contact-requests/${incoming.id}/approve`, {})).status, 200);
      await waitFor(
        async () => (await mcp.call('a2a_list_peers')).data.peers.some((p: { state: string }) => p.state === 'mutual'),
        'the approval on A',
      );
      const sent = await mcp.call('a2a_send_message', { recipient_id: B.at(dave.name), body: 'hello over MCP' });
      assert.equal(sent.isError, undefined, sent.text);
      const got = await waitFor(async () => (await dave.api.get('/api/inbox')).body.messages[0], 'the message on B');
      assert.equal(got.body, 'hello over MCP');
      assert.equal(
        (await dave.api.post('/api/messages', { recipient_id: A.at(carol.name), body: 'hello back', reply_to_id: got.id })).status,
        202,
      );
      const inbox = (await waitFor(async () => {
        const r = await mcp.call('a2a_check_inbox', {});
        return r.data.messages.length > 0 && r;
      }, 'the answer on A')) as ToolCallResult;
      assert.equal(inbox.data.messages[0].body, 'hello back');
      assert.equal(inbox.data.messages[0].sender_name, B.at(dave.name));
    } finally {
      await mcp.close();
    }
  });

  // The CLI talks REST to its own server: once, in the SQLite pass, is enough (CLI processes are slow to start).
  test(
    'CLI (amtp, two homes): request, approve, a sealed and signed message between servers',
    { skip: backend === 'postgres' ? 'covered by the SQLite pass' : undefined },
    async () => {
      const homes = { erin: mkdtempSync(join(tmpdir(), 'amtp-fed-erin-')), frank: mkdtempSync(join(tmpdir(), 'amtp-fed-frank-')) };
      const as = (who: keyof typeof homes, ...args: string[]) => amtp(args, { AMTP_CONFIG_DIR: homes[who] });
      try {
        const [e, f] = await Promise.all([
          as('erin', 'register', 'cli-erin', '--server', A.url),
          as('frank', 'register', 'cli-frank', '--server', B.url),
        ]);
        assert.equal(e.code, 0, e.stderr);
        assert.equal(f.code, 0, f.stderr);
        // Waiting on the servers is done over REST with the keys the CLI stored (a CLI process per poll would be slow).
        const key = (who: keyof typeof homes) =>
          (JSON.parse(readFileSync(join(homes[who], 'default.json'), 'utf8')) as { api_key: string }).api_key;
        const [erinApi, frankApi] = [client(A.url, key('erin')), client(B.url, key('frank'))];
        const asked = await as('erin', 'request', B.at('cli-frank'));
        assert.equal(asked.code, 0, asked.stderr);
        const incoming = await waitFor(
          async () => (await frankApi.get('/api/contact-requests?direction=incoming')).body.requests[0],
          'the request on B',
        );
        assert.equal((await as('frank', 'approve', incoming.id)).code, 0);
        await waitFor(
          async () => (await erinApi.get('/api/peers')).body.peers.some((p: { state: string }) => p.state === 'mutual'),
          'the approval on A',
        );
        const sent = await as('erin', 'send', B.at('cli-frank'), 'hello from the CLI');
        assert.equal(sent.code, 0, sent.stderr);
        assert.match(sent.stdout, /sealed end to end, signed/);
        await waitFor(async () => (await frankApi.get('/api/inbox')).body.messages.length > 0, 'the message on B');
        const shown = await as('frank', 'inbox');
        assert.equal(shown.code, 0, shown.stderr);
        assert.match(shown.stdout, /hello from the CLI/);
        assert.match(shown.stdout, /verified/);
        assert.match(shown.stdout, new RegExp(A.at('cli-erin').replace(/\./g, '\\.')));
      } finally {
        for (const home of Object.values(homes)) rmSync(home, { recursive: true, force: true });
      }
    },
  );

  test('an unknown remote handle answers exactly like one that declined (and so blocked) the requester', async () => {
    const [carol, dave] = await Promise.all([register(A.url, 'decl-carol'), register(B.url, 'decl-dave')]);
    const req = await carol.api.post('/api/contact-requests', { agent_id: B.at(dave.name) });
    assert.equal(req.status, 201);
    const incoming = await waitFor(
      async () => (await dave.api.get('/api/contact-requests?direction=incoming')).body.requests[0],
      'the request on B',
    );
    assert.equal((await dave.api.post(`/api/contact-requests/${incoming.id}/decline`, {})).status, 200);

    const again = await carol.api.post('/api/contact-requests', { agent_id: B.at(dave.name) });
    const unknown = await carol.api.post('/api/contact-requests', { agent_id: B.at('nobody-here') });
    assert.equal(again.status, 404);
    assert.deepEqual(again.body, unknown.body);
    assert.equal(unknown.body.error.code, 'agent_not_found');
  });
});
