/**
 * AMTP → A2A, end to end: an AMTP agent writes (REST, MCP, CLI) to an `@a2a-js/sdk` sample agent on
 * loopback by its AgentCard URL; the outbox delivers it; the agent's answer lands in the sender's
 * inbox, from the agent row standing for it, in the request's thread. Loopback targets are allowed
 * here as for webhooks in tests (AMTP_WEBHOOK_ALLOW_HTTP / _ALLOW_LOOPBACK); private ones never are.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { A2ASendOutput, InboxOutput, Message } from '../../src/protocol/schemas.js';
import { amtp } from '../helpers/cli.js';
import { mcpClient } from '../helpers/mcp.js';
import { register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';
import { startSampleAgent, type SampleAgent } from './sample-agent.js';

describe('AMTP → A2A: the answer arrives in the inbox, in the thread', () => {
  let t: TestServer;
  let peer: SampleAgent;
  let alice: TestAgent;

  before(async () => {
    // Two quick retries, so an unreachable agent is given up on within the test.
    t = await startServer({ AMTP_WEBHOOK_ALLOW_HTTP: 'true', AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true', AMTP_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2' });
    peer = await startSampleAgent();
    alice = await register(t.url);
  });
  after(async () => {
    await peer.close();
    await t.close();
  });

  /** The next unread message in the thread (long-polling until it arrives, within a bound). */
  async function answerIn(agent: TestAgent, threadId: string): Promise<Message> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const inbox = await agent.api.get<InboxOutput>('/api/inbox?unread_only=true&wait=5');
      const found = inbox.body.messages.find((m) => m.thread_id === threadId);
      if (found) return found;
    }
    throw new Error(`no answer in ${threadId}`);
  }

  test('REST: sent by AgentCard URL, received by the agent with its text and data, answered into the thread', async () => {
    const sent = await alice.api.post<A2ASendOutput>('/api/a2a/messages', {
      agent_card_url: peer.cardUrl,
      subject: 'Hello',
      body: 'are you there?',
      payload: { n: 1 },
      client_id: 'first',
    });
    assert.equal(sent.status, 202);
    assert.match(sent.body.recipient_name, /^a2a-[0-9a-f]{24}$/);
    const answer = await answerIn(alice, sent.body.thread_id);
    assert.equal(answer.sender_id, sent.body.recipient_id);
    assert.equal(answer.reply_to_id, sent.body.id);
    assert.equal(answer.subject, 'Re: Hello');
    assert.equal(answer.body, 'echo: Hello\n\nare you there?');
    const { a2a } = answer.payload as { a2a: { task_id: string; context_id: string } };
    assert.match(a2a.task_id, /./);
    assert.deepEqual(answer.payload, {
      a2a: { state: 'completed', task_id: a2a.task_id, context_id: a2a.context_id },
      data: [{ received: [{ n: 1 }] }],
    });
    const [got] = peer.received.slice(-1);
    assert.equal(got!.messageId, sent.body.id, 'the AMTP message id is the A2A messageId');
    const request = await alice.api.get<Message>(`/api/messages/${sent.body.id}`);
    assert.equal(request.body.status, 'delivered');
    const profile = await alice.api.get(`/api/agents/${sent.body.recipient_id}`);
    assert.equal(profile.body.display_name, 'Echo agent', 'the stand-in takes the name on the card');

    const again = await alice.api.post<A2ASendOutput>('/api/a2a/messages', {
      agent_card_url: peer.cardUrl,
      body: 'are you there?',
      client_id: 'first',
    });
    assert.equal(again.body.id, sent.body.id, 'client_id makes a retry safe');
  });

  test('MCP and the CLI send the same way', async () => {
    const mcp = await mcpClient(t.url, alice.key);
    const viaMcp = await mcp.call('a2a_send_to_a2a_agent', { agent_card_url: peer.cardUrl, body: 'from MCP' });
    await mcp.close();
    assert.equal(viaMcp.isError, undefined, viaMcp.text);
    assert.equal((await answerIn(alice, viaMcp.data.thread_id)).body, 'echo: from MCP');

    const config = mkdtempSync(join(tmpdir(), 'amtp-a2a-cli-'));
    try {
      const env = { AMTP_CONFIG_DIR: config };
      const reg = await amtp(['register', `cli-a2a-${process.pid}`, '--server', t.url], env);
      assert.equal(reg.code, 0, reg.stderr);
      const sent = await amtp(['send-a2a', peer.cardUrl, 'from', 'the', 'CLI', '--json'], env);
      assert.equal(sent.code, 0, sent.stderr);
      const out = JSON.parse(sent.stdout) as A2ASendOutput;
      const deadline = Date.now() + 15_000;
      let answers: Record<string, unknown>[] = [];
      while (answers.length === 0 && Date.now() < deadline) {
        answers = await t.sql('SELECT body, thread_id FROM messages WHERE reply_to_id = ?', out.id);
        if (answers.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(answers, [{ body: 'echo: from the CLI', thread_id: out.thread_id }]);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });

  test('the webhook target rules: a private address is refused; an unreachable agent is retried, then the failure lands in the thread', async () => {
    const refused = await alice.api.post('/api/a2a/messages', {
      agent_card_url: 'http://10.1.2.3/.well-known/agent-card.json',
      body: 'hi',
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.code, 'invalid_agent_card_url');
    assert.equal(refused.body.error.reason, 'forbidden_address');
    const empty = await alice.api.post('/api/a2a/messages', { agent_card_url: peer.cardUrl });
    assert.equal(empty.status, 400);

    const gone = await startSampleAgent();
    await gone.close();
    const sent = await alice.api.post<A2ASendOutput>('/api/a2a/messages', { agent_card_url: gone.cardUrl, body: 'anyone?' });
    assert.equal(sent.status, 202);
    const failure = await answerIn(alice, sent.body.thread_id);
    assert.match(failure.body!, /could not be delivered to the A2A agent after 3 attempts/);
    assert.equal((failure.payload as { a2a: { state: string } }).a2a.state, 'failed');
  });
});
