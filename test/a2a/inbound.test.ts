/**
 * A2A → AMTP, end to end, with the official `@a2a-js/sdk` client: it resolves an agent's card,
 * verifies its signature, and sends with an AMTP API key as Bearer; the AMTP recipient reads and
 * replies over MCP; the A2A client sees the task complete with the reply.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Role,
  TaskState,
  canonicalizeAgentCard,
  verifyAgentCardSignature,
  type AgentCard,
  type Message,
  type StreamResponse,
  type Task,
} from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { A2AError } from '@a2a-js/sdk/errors';
import { flattenedVerify, importJWK, type JWK } from 'jose';
import { generateSigningKeyPair, signMessage } from '../../src/crypto/sign.js';
import { mcpClient, type McpSession } from '../helpers/mcp.js';
import { client as rest, connect, register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

const text = (value: string) => ({
  content: { $case: 'text' as const, value },
  metadata: undefined,
  filename: '',
  mediaType: 'text/plain',
});
let counter = 0;
const userMessage = (value: string, metadata?: Record<string, unknown>): Message => ({
  messageId: `a2a-test-${process.pid}-${++counter}`,
  contextId: '',
  taskId: '',
  role: Role.ROLE_USER,
  parts: [text(value)],
  metadata,
  extensions: [],
  referenceTaskIds: [],
});
const sendParams = (message: Message) => ({ tenant: '', message, configuration: undefined, metadata: undefined });

/** The SDK's client for one agent, authenticating with `apiKey` (Bearer) on every request. */
async function a2aClient(baseUrl: string, agentName: string, apiKey?: string): Promise<Client> {
  const fetchImpl: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    if (apiKey) headers.set('authorization', `Bearer ${apiKey}`);
    return fetch(input, { ...init, headers });
  };
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })] }),
  );
  // The card is at <agent base>/.well-known/agent-card.json: the base ends with a slash.
  return factory.createFromUrl(`${baseUrl}/a2a/agents/${agentName}/`);
}

async function rejection(promise: Promise<unknown>): Promise<{ name: string; code: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof A2AError, `an A2A error, not ${String(error)}`);
    return { name: error.name, code: (error as A2AError & { envelopeCode?: number }).envelopeCode, message: error.message };
  }
  assert.fail('expected an A2A error');
}

const textOf = (m: Message | undefined) => m?.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('') ?? '';

describe('A2A → AMTP: cards, SendMessage, the task following the message', () => {
  let t: TestServer;
  let alice: TestAgent; // the A2A caller (an AMTP agent on this server)
  let bob: TestAgent; // the AMTP recipient, which answers over MCP
  let bobMcp: McpSession;
  let a2a: Client;

  before(async () => {
    t = await startServer({ AMTP_MAX_MESSAGE_BYTES: '4096', AMTP_STREAM_HEARTBEAT_SECONDS: '1' });
    [alice, bob] = [await register(t.url), await register(t.url)];
    await connect(alice, bob);
    const caps = await bob.api.put('/api/me/capabilities', {
      capabilities: [
        {
          id: 'scheduling',
          title: 'Scheduling',
          description: 'Find a meeting time.',
          input_schema: { type: 'object', required: ['week'], properties: { week: { type: 'string' } } },
        },
        { id: 'casual', title: 'Chat' },
      ],
    });
    assert.equal(caps.status, 200);
    bobMcp = await mcpClient(t.url, bob.key);
    a2a = await a2aClient(t.url, bob.name, alice.key);
  });
  after(async () => {
    await bobMcp.close();
    await t.close();
  });

  test('the card: skills with their schemas, Bearer (AMTP API key), the JSON-RPC endpoint, signed by the server key (verified with jose and with the SDK)', async () => {
    const card = (await (await fetch(`${t.url}/a2a/agents/${bob.name}/.well-known/agent-card.json`)).json()) as AgentCard & {
      securitySchemes: Record<string, any>;
    };
    assert.deepEqual(
      card.skills.map((s) => s.id),
      ['scheduling', 'casual'],
    );
    const ext = card.capabilities!.extensions.find((e) => e.uri === 'urn:amtp:a2a-bridge:v1')!;
    assert.deepEqual(ext.params!.input_schemas.scheduling.required, ['week']);
    assert.equal(ext.params!.agent_id, bob.id);
    assert.deepEqual(card.securitySchemes.amtp, {
      httpAuthSecurityScheme: {
        scheme: 'Bearer',
        bearerFormat: 'AMTP API key',
        description: card.securitySchemes.amtp!.httpAuthSecurityScheme.description,
      },
    });
    assert.deepEqual(card.supportedInterfaces, [
      { url: `${t.url}/a2a/agents/${bob.name}`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
    ]);

    const jwks = (await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    const [sig] = card.signatures as { protected: string; signature: string }[];
    const header = JSON.parse(Buffer.from(sig!.protected, 'base64url').toString()) as Record<string, string>;
    assert.equal(header.alg, 'EdDSA');
    assert.equal(header.jku, `${t.url}/.well-known/jwks.json`);
    const key = (await importJWK(
      jwks.keys.find((k) => k.kid === header.kid)!,
      'EdDSA',
    )) as CryptoKey;
    // A2A §8.4: the payload is the JCS form of the card without its signatures.
    const payload = Buffer.from(canonicalizeAgentCard(card)).toString('base64url');
    await flattenedVerify({ ...sig!, payload }, key);
    await verifyAgentCardSignature(async () => key)(card);
    // One changed field, and the signature no longer holds.
    await assert.rejects(
      flattenedVerify({ ...sig!, payload: Buffer.from(canonicalizeAgentCard({ ...card, name: 'mallory' })).toString('base64url') }, key),
    );

    const server = (await (await fetch(`${t.url}/.well-known/agent-card.json`)).json()) as AgentCard;
    assert.equal(
      server.capabilities!.extensions[0]!.params!.agent_card_url_template,
      `${t.url}/a2a/agents/{name}/.well-known/agent-card.json`,
    );
    await verifyAgentCardSignature(async () => key)(server);
    const none = await fetch(`${t.url}/a2a/agents/${alice.name}/.well-known/agent-card.json`);
    assert.equal(none.status, 404, 'an agent without capabilities has no card');
  });

  test('SendMessage → submitted; the recipient reads and replies over MCP; the stream and GetTask end completed with the reply', async () => {
    const sent = (await a2a.sendMessage(sendParams(userMessage('Lunch on Thursday?', { amtp: { subject: 'Lunch' } })))) as Task;
    assert.match(sent.id, /^msg_[0-9a-f]{32}$/);
    assert.equal(sent.status!.state, TaskState.TASK_STATE_SUBMITTED);
    assert.equal(textOf(sent.history[0]), 'Lunch on Thursday?');

    const events: StreamResponse[] = [];
    const streamed = (async () => {
      for await (const event of a2a.resubscribeTask({ tenant: '', id: sent.id })) events.push(event);
    })();

    const inbox = await bobMcp.call('a2a_check_inbox', { unread_only: true });
    const [mail] = inbox.data.messages as { id: string; sender_id: string; subject: string; body: string; thread_id: string }[];
    assert.equal(mail!.id, sent.id);
    assert.equal(mail!.sender_id, alice.id, 'the A2A caller is the AMTP sender');
    assert.equal(mail!.subject, 'Lunch');
    assert.equal(
      (await a2a.getTask({ tenant: '', id: sent.id, historyLength: undefined })).status!.state,
      TaskState.TASK_STATE_WORKING,
      'delivered → working',
    );
    const reply = await bobMcp.call('a2a_send_message', { recipient_id: alice.name, body: 'Thursday works: 12:30.', reply_to_id: sent.id });
    assert.equal(reply.isError, undefined, reply.text);

    await streamed;
    const states = events.map((e) =>
      e.payload?.$case === 'task'
        ? e.payload.value.status!.state
        : e.payload?.$case === 'statusUpdate'
          ? e.payload.value.status!.state
          : -1,
    );
    assert.equal(states.at(-1), TaskState.TASK_STATE_COMPLETED, `stream ended completed: ${states.join(',')}`);
    const done = await a2a.getTask({ tenant: '', id: sent.id, historyLength: undefined });
    assert.equal(done.status!.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(done.contextId, mail!.thread_id);
    assert.equal(done.status!.message!.role, Role.ROLE_AGENT);
    assert.equal(textOf(done.status!.message), 'Thursday works: 12:30.');
    assert.equal(done.status!.message!.metadata!.amtp.sender_id, bob.id);
  });

  test('a processed receipt without a reply ends the task: declined → rejected, failed → failed', async () => {
    for (const [outcome, state] of [
      ['declined', TaskState.TASK_STATE_REJECTED],
      ['failed', TaskState.TASK_STATE_FAILED],
    ] as const) {
      const sent = (await a2a.sendMessage(sendParams(userMessage(`Can you do it? (${outcome})`)))) as Task;
      const ack = await bobMcp.call('a2a_ack', { message_id: sent.id, outcome, note: 'not this week' });
      assert.equal(ack.isError, undefined, ack.text);
      assert.equal((await a2a.getTask({ tenant: '', id: sent.id, historyLength: undefined })).status!.state, state, outcome);
    }
  });

  test('streaming SendMessage: the task, then its updates', async () => {
    const events: StreamResponse[] = [];
    let id = '';
    for await (const event of a2a.sendMessageStream(sendParams(userMessage('Streamed question')))) {
      events.push(event);
      if (event.payload?.$case === 'task') {
        id = event.payload.value.id;
        const got = await rest(t.url, bob.key).get(`/api/messages/${id}`);
        await rest(t.url, bob.key).post('/api/messages', { recipient_id: alice.name, body: 'Streamed answer', reply_to_id: got.body.id });
      }
    }
    assert.equal(events[0]!.payload?.$case, 'task');
    const last = events.at(-1)!.payload;
    assert.equal(last?.$case, 'statusUpdate');
    assert.equal(last.value.status!.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(textOf(last.value.status!.message), 'Streamed answer');
  });

  test('a stream sends heartbeats, each re-checking the key: rotating it away ends the stream', async () => {
    const erin = await register(t.url);
    await connect(erin, bob);
    const erinA2a = await a2aClient(t.url, bob.name, erin.key);
    const task = (await erinA2a.sendMessage(sendParams(userMessage('still there?')))) as Task;
    const events: StreamResponse[] = [];
    const streamed = (async () => {
      for await (const event of erinA2a.resubscribeTask({ tenant: '', id: task.id })) events.push(event);
    })();
    const deadline = Date.now() + 10_000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await erin.api.post('/api/me/api-key/rotate')).status, 200);
    await streamed;
    assert.deepEqual(
      events.map((e) => e.payload?.$case),
      ['task'],
      'ended without a terminal state: the key is gone',
    );
  });

  test('the same send rules: an intent checked against its schema, the same message twice is one task', async () => {
    const bad = await rejection(
      a2a.sendMessage(
        sendParams({
          ...userMessage('book it'),
          parts: [
            { content: { $case: 'data', value: { month: 'May' } }, metadata: undefined, filename: '', mediaType: 'application/json' },
          ],
          metadata: { amtp: { intent: 'scheduling' } },
        }),
      ),
    );
    assert.equal(bad.code, -32602);
    assert.match(bad.message, /^invalid_payload: /);
    const message = userMessage('once');
    const [first, again] = [(await a2a.sendMessage(sendParams(message))) as Task, (await a2a.sendMessage(sendParams(message))) as Task];
    assert.equal(again.id, first.id, 'the A2A messageId is the AMTP client_id');
  });

  test('the same rules, again: signature, scope, size; and the JSON-RPC envelope itself', async () => {
    const keys = generateSigningKeyPair();
    const dave = await register(t.url, undefined, { public_key: keys.publicKey });
    await connect(dave, bob);
    const daveA2a = await a2aClient(t.url, bob.name, dave.key);
    const unsigned = await rejection(daveA2a.sendMessage(sendParams(userMessage('unsigned'))));
    assert.match(unsigned.message, /^signature_required: /);
    assert.equal(unsigned.code, -32602);
    const message = userMessage('signed hello');
    const signature = signMessage(
      { sender_id: dave.id, recipient_id: bob.id, scope: 'message', body: 'signed hello', client_id: message.messageId },
      keys.secretKey,
    );
    const signed = (await daveA2a.sendMessage(sendParams({ ...message, metadata: { amtp: signature } }))) as Task;
    const stored = await bob.api.get(`/api/messages/${signed.id}`);
    assert.equal(stored.body.ed25519_signature, signature.ed25519_signature, 'the sender signature reaches the recipient');

    const scope = await rejection(a2a.sendMessage(sendParams(userMessage('invoice', { amtp: { scope: 'invoicing' } }))));
    assert.equal(scope.code, -32050);
    assert.match(scope.message, /^scope_not_granted: /);
    const large = await rejection(a2a.sendMessage(sendParams(userMessage('x'.repeat(5000)))));
    assert.equal(large.code, -32602);
    assert.match(large.message, /^too_large: /);

    const post = (body: string, version?: string) =>
      fetch(`${t.url}/a2a/agents/${bob.name}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${alice.key}`,
          ...(version ? { 'a2a-version': version } : {}),
        },
        body,
      });
    const notJson = (await (await post('{"jsonrpc":', '1.0')).json()) as { error: { code: number } };
    assert.equal(notJson.error.code, -32700);
    const noVersion = (await (await post(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'GetTask', params: { id: 'x' } }))).json()) as {
      id: number;
      error: { code: number; message: string };
    };
    assert.equal(noVersion.id, 7);
    assert.match(noVersion.error.message, /version '0\.3' is not supported/);
  });

  test('an agent that has not authorized the caller and an unknown agent give the identical A2A error', async () => {
    const carol = await register(t.url);
    const refusedByBob = await rejection((await a2aClient(t.url, bob.name, carol.key)).sendMessage(sendParams(userMessage('hi'))));
    // An unknown agent has no card to start from: the client is pointed at its endpoint directly.
    const card = await a2a.getAgentCard();
    const unknownCard = {
      ...card,
      supportedInterfaces: [{ ...card.supportedInterfaces[0]!, url: `${t.url}/a2a/agents/nobody-here-${process.pid}` }],
    };
    const fetchImpl: typeof fetch = (input, init) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${carol.key}` } });
    const unknown = await (
      await new ClientFactory({ transports: [new JsonRpcTransportFactory({ fetchImpl })] }).createFromAgentCard(unknownCard)
    )
      .sendMessage(sendParams(userMessage('hi')))
      .then(
        () => assert.fail('expected an A2A error'),
        (e: A2AError & { envelopeCode?: number }) => ({ name: e.name, code: e.envelopeCode, message: e.message }),
      );
    assert.deepEqual(unknown, refusedByBob);
    assert.equal(refusedByBob.code, -32050);
    assert.match(refusedByBob.message, /^not_authorized: /);

    const noKey = await fetch(`${t.url}/a2a/agents/${bob.name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: {} }),
    });
    assert.equal(noKey.status, 401);
    assert.equal(((await noKey.json()) as { error: { code: number } }).error.code, -32052);
  });

  test('CancelTask withdraws a message not yet delivered; once delivered it is not cancelable; tasks are the sender’s own', async () => {
    const task = (await a2a.sendMessage(sendParams(userMessage('never mind')))) as Task;
    const canceled = await a2a.cancelTask({ tenant: '', id: task.id, metadata: undefined });
    assert.equal(canceled.status!.state, TaskState.TASK_STATE_CANCELED);
    assert.equal((await a2a.getTask({ tenant: '', id: task.id, historyLength: undefined })).status!.state, TaskState.TASK_STATE_CANCELED);
    const inbox = await bob.api.get('/api/inbox?unread_only=true&limit=200');
    assert.ok(!inbox.body.messages.some((m: { id: string }) => m.id === task.id), 'the recipient never sees it');

    const kept = (await a2a.sendMessage(sendParams(userMessage('this one stays')))) as Task;
    await bob.api.get(`/api/messages/${kept.id}`);
    const late = await rejection(a2a.cancelTask({ tenant: '', id: kept.id, metadata: undefined }));
    assert.equal(late.name, 'TaskNotCancelableError');

    const carol = await register(t.url);
    await connect(carol, bob);
    const other = await rejection(
      (await a2aClient(t.url, bob.name, carol.key)).getTask({ tenant: '', id: kept.id, historyLength: undefined }),
    );
    assert.equal(other.name, 'TaskNotFoundError');
  });
});
