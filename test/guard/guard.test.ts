/**
 * Guard rails (SPEC §17), through REST and the official MCP SDK client against /mcp, on one server
 * whose clock the test drives: grants that lapse by count and by time, a budget hit and recovered,
 * the loop breaker stopping a ping-pong until a human speaks, and the leak guard holding a message
 * that only a person (not an MCP tool) can release.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loopFlags } from '../../src/core/guard.js';
import type { AuditEntry, GuardSettings, HeldMessage, InboxOutput, Peer, SendOutput } from '../../src/protocol/schemas.js';
import { ManualClock } from '../helpers/clock.js';
import { mcpClient, type McpSession, type ToolCallResult } from '../helpers/mcp.js';
import { connect, register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

const LOOP_MAX = 4;
const clock = new ManualClock();
let t: TestServer;
const sessions: McpSession[] = [];

before(async () => {
  t = await startServer({ AMTP_LOOP_MAX_MESSAGES: String(LOOP_MAX), AMTP_LOOP_WINDOW_SECONDS: '3600' }, { clock });
});
after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await t.close();
});

async function mcp(agent: TestAgent): Promise<McpSession> {
  const s = await mcpClient(t.url, agent.key);
  sessions.push(s);
  return s;
}

async function pair(scopes = ['message', 'scheduling']): Promise<[TestAgent, TestAgent]> {
  const a = await register(t.url);
  const b = await register(t.url);
  await connect(a, b, scopes);
  return [a, b];
}

const ok = (r: ToolCallResult, what: string) => {
  assert.ok(!r.isError, `${what}: ${r.text}`);
  return r.data;
};
const refused = (r: ToolCallResult, code: string, what: string) => {
  assert.ok(r.isError, `${what} should fail`);
  assert.equal(r.data.error?.code, code, `${what}: ${r.text}`);
};

const peerOf = async (me: TestAgent, other: TestAgent) =>
  (await me.api.get<{ peers: Peer[] }>('/api/peers')).body.peers.find((p) => p.agent_id === other.id)!;
const auditActions = async (agent: TestAgent) => (await agent.api.get<{ entries: AuditEntry[] }>('/api/me/audit?limit=200')).body.entries;

describe('grants limited in count and time', () => {
  test('a grant lapses after its count (MCP tools), is audited, shows on both sides, and renews like a grant', async () => {
    const [a, b] = await pair();
    const [ma, mb] = [await mcp(a), await mcp(b)];
    const peer = ok(
      await mb.call('a2a_authorize_agent', { agent_id: a.id, limits: { scheduling: { max_messages: 2 } } }),
      'limit scheduling to 2',
    );
    assert.deepEqual(peer.my_limits, { scheduling: { expires_at: null, remaining: 2 } });
    assert.deepEqual((await peerOf(a, b)).their_limits, { scheduling: { expires_at: null, remaining: 2 } });

    for (let i = 0; i < 2; i++)
      ok(await ma.call('a2a_send_message', { recipient_id: b.id, scope: 'scheduling', body: `slot ${i}` }), `scheduling ${i}`);
    refused(
      await ma.call('a2a_send_message', { recipient_id: b.id, scope: 'scheduling', body: 'one more' }),
      'grant_lapsed',
      'third scheduling message',
    );
    const rest = await a.api.post('/api/messages', { recipient_id: b.id, scope: 'scheduling', body: 'over REST' });
    assert.equal(rest.status, 403);
    assert.equal(rest.body.error.code, 'grant_lapsed');
    assert.equal(
      (await a.api.post('/api/messages', { recipient_id: b.id, body: 'unlimited scope' })).status,
      202,
      'other scopes are untouched',
    );

    assert.deepEqual((await peerOf(a, b)).their_limits, { scheduling: { expires_at: null, remaining: 0 } });
    assert.deepEqual((await peerOf(b, a)).my_limits, { scheduling: { expires_at: null, remaining: 0 } });
    const lapses = (await auditActions(b)).filter((e) => e.action === 'grant.lapsed');
    assert.deepEqual(
      lapses.map((e) => [e.target_id, e.details]),
      [[a.id, { scope: 'scheduling', reason: 'used_up' }]],
      "audited once, in the granter's log",
    );

    ok(await mb.call('a2a_authorize_agent', { agent_id: a.id, limits: { scheduling: { max_messages: 1 } } }), 'renew');
    ok(await ma.call('a2a_send_message', { recipient_id: b.id, scope: 'scheduling', body: 'renewed' }), 'after renewal');
    refused(
      await ma.call('a2a_send_message', { recipient_id: b.id, scope: 'scheduling', body: 'again' }),
      'grant_lapsed',
      'renewal used up',
    );
  });

  test('a grant lapses after its time (REST, the clock driven by the test)', async () => {
    const [a, b] = await pair();
    const expires_at = new Date(clock.now() + 3_600_000).toISOString();
    const granted = await b.api.post('/api/authorizations', { agent_id: a.id, limits: { message: { expires_at } } });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.deepEqual((await peerOf(a, b)).their_limits, { message: { expires_at, remaining: null } });
    assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body: 'before' })).status, 202);

    clock.advance(3_600_001);
    const late = await a.api.post('/api/messages', { recipient_id: b.id, body: 'after' });
    assert.equal(late.status, 403);
    assert.equal(late.body.error.code, 'grant_lapsed');
    assert.match(late.body.error.message, /renew/);
    assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, scope: 'scheduling', body: 'other scope' })).status, 202);
    assert.deepEqual((await peerOf(b, a)).my_limits, { message: { expires_at, remaining: 0 } });
    assert.deepEqual(
      (await auditActions(b)).filter((e) => e.action === 'grant.lapsed').map((e) => e.details),
      [{ scope: 'message', reason: 'expired' }],
    );
    const past = await b.api.post('/api/authorizations', { agent_id: a.id, limits: { message: { expires_at } } });
    assert.equal(past.status, 400, 'an expiry in the past is refused');
    const stray = await b.api.post('/api/authorizations', {
      agent_id: a.id,
      scopes: ['message'],
      limits: { invoicing: { max_messages: 1 } },
    });
    assert.equal(stray.status, 400, 'a limit on a scope not granted is refused');
  });
});

describe('budgets', () => {
  test('a pair budget is hit (429 with Retry-After naming the limit) and recovers when its window ends', async () => {
    const [a, b] = await pair();
    const set = await b.api.put(`/api/peers/${a.id}/budget`, { per_hour: 2 });
    assert.deepEqual(set.body, { agent_id: a.id, budget: { per_hour: 2, per_day: null, source: 'pair' } });
    assert.deepEqual((await peerOf(b, a)).budget, { per_hour: 2, per_day: null, source: 'pair' });
    for (let i = 0; i < 2; i++) assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body: `m${i}` })).status, 202);
    const over = await a.api.post('/api/messages', { recipient_id: b.id, body: 'm2' });
    assert.equal(over.status, 429);
    assert.equal(over.body.error.code, 'budget_exceeded');
    assert.match(over.body.error.message, /at most 2 message\(s\) per clock hour/);
    const retryAfter = Number(over.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
    refused(await (await mcp(a)).call('a2a_send_message', { recipient_id: b.id, body: 'via MCP' }), 'budget_exceeded', 'MCP over budget');

    clock.advance(retryAfter * 1000);
    assert.equal(
      (await a.api.post('/api/messages', { recipient_id: b.id, body: 'next hour' })).status,
      202,
      'recovered in the next window',
    );
  });

  test("the recipient's default budget applies to pairs without their own", async () => {
    const [a, b] = await pair();
    const g = await b.api.put<GuardSettings>('/api/me/guard', { default_budget: { per_day: 1 } });
    assert.deepEqual(g.body.default_budget, { per_hour: null, per_day: 1 });
    assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body: 'first' })).status, 202);
    const over = await a.api.post('/api/messages', { recipient_id: b.id, body: 'second' });
    assert.equal(over.status, 429);
    assert.match(over.body.error.message, /default budget: at most 1 message\(s\) per UTC day/);
    await b.api.put(`/api/peers/${a.id}/budget`, { per_day: 5 });
    assert.equal(
      (await a.api.post('/api/messages', { recipient_id: b.id, body: 'own budget' })).status,
      202,
      "the pair's own budget replaces the default",
    );
  });
});

describe('the loop breaker', () => {
  test('stops a ping-pong between two automatic agents (MCP) and a human releases it', async () => {
    const [a, b] = await pair();
    const [ma, mb] = [await mcp(a), await mcp(b)];
    const sendTool = ma.tools.find((tool) => tool.name === 'a2a_send_message')!;
    assert.ok(!('origin' in (sendTool.inputSchema.properties ?? {})), 'the MCP tools cannot mark a message human-originated');

    let last = ok(await ma.call('a2a_send_message', { recipient_id: b.id, body: 'ping 0' }), 'first') as SendOutput;
    const thread = last.thread_id;
    for (let i = 1; i < LOOP_MAX; i++) {
      const [from, to] = i % 2 ? [mb, a] : [ma, b];
      last = ok(await from.call('a2a_send_message', { recipient_id: to.id, body: `pong ${i}`, reply_to_id: last.id }), `exchange ${i}`);
    }
    refused(
      await ma.call('a2a_send_message', { recipient_id: b.id, body: 'one too many', reply_to_id: last.id }),
      'loop_detected',
      'the breaker trips',
    );
    refused(
      await mb.call('a2a_send_message', { recipient_id: a.id, body: 'me neither', reply_to_id: last.id }),
      'loop_detected',
      'both sides are stopped',
    );
    const automatic = await b.api.post('/api/messages', { recipient_id: a.id, body: 'REST, not human', reply_to_id: last.id });
    assert.equal(automatic.status, 409);
    assert.equal(automatic.body.error.code, 'loop_detected');

    const flags = await loopFlags(t.server.core.store, a.id);
    assert.deepEqual(
      flags.map((f) => [f.thread_id, f.peer_id, f.messages]),
      [[thread, b.id, LOOP_MAX]],
      'the function the digest calls',
    );
    assert.equal((await a.api.get(`/api/threads/${thread}`)).body.loop.thread_id, thread);
    assert.deepEqual((await peerOf(b, a)).looping_threads, [thread]);
    // The MCP digest ranks the stopped thread first, for the human (even with nothing unread in it).
    const digest = ok(await mb.call('a2a_inbox_digest', {}), 'digest') as {
      peers: { peer_id: string; flags: string[]; threads: { thread_id: string; flags: string[] }[] }[];
    };
    assert.equal(digest.peers[0]!.peer_id, a.id);
    assert.equal(digest.peers[0]!.flags[0], 'loop_detected');
    assert.deepEqual(digest.peers[0]!.threads.find((x) => x.thread_id === thread)!.flags.slice(0, 1), ['loop_detected']);
    for (const agent of [a, b]) {
      const events = await t.server.core.store.events(agent.id, { afterSeq: 0, limit: 1000 });
      assert.deepEqual(
        events.filter((e) => e.type === 'thread.loop_detected').map((e) => e.data.thread_id),
        [thread],
        'an event for each side',
      );
    }

    const human = await a.api.post<SendOutput>('/api/messages', {
      recipient_id: b.id,
      body: 'Alice here, in person: carry on',
      reply_to_id: last.id,
      origin: 'human',
    });
    assert.equal(human.status, 202, JSON.stringify(human.body));
    assert.equal((await a.api.get(`/api/threads/${thread}`)).body.loop, null);
    clock.advance(1);
    assert.equal((await b.api.get(`/api/messages/${human.body.id}`)).body.origin, 'human');
    ok(
      await mb.call('a2a_send_message', { recipient_id: a.id, body: 'resumed', reply_to_id: human.body.id }),
      'automatic again after the human',
    );
    assert.deepEqual(await loopFlags(t.server.core.store, a.id), []);
    const after = (await a.api.get('/api/inbox/digest')).body as { peers: { flags: string[] }[] };
    assert.ok(
      after.peers.every((p) => !p.flags.includes('loop_detected')),
      'cleared in the digest too',
    );
    assert.ok((await auditActions(a)).some((e) => e.action === 'loop.cleared' && e.target_id === b.id));
  });

  test('a human can also clear the flag without writing (DELETE /api/threads/:id/loop)', async () => {
    const [a, b] = await pair();
    let last = (await a.api.post<SendOutput>('/api/messages', { recipient_id: b.id, body: 'x' })).body;
    for (let i = 1; i <= LOOP_MAX; i++) {
      const [from, to] = i % 2 ? [b, a] : [a, b];
      const r = await from.api.post('/api/messages', { recipient_id: to.id, body: `x${i}`, reply_to_id: last.id });
      if (i < LOOP_MAX) last = r.body as SendOutput;
      else assert.equal(r.body.error.code, 'loop_detected');
    }
    assert.deepEqual((await b.api.del(`/api/threads/${last.thread_id}/loop`)).body, { cleared: true });
    assert.deepEqual((await b.api.del(`/api/threads/${last.thread_id}/loop`)).body, { cleared: false }, 'once');
    clock.advance(1); // the breaker counts the messages after the clearing
    assert.equal((await a.api.post('/api/messages', { recipient_id: b.id, body: 'go on', reply_to_id: last.id })).status, 202);
  });
});

describe('the leak guard', () => {
  const TOKEN = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;

  test('a message carrying a real-looking key is held, the MCP tools cannot approve it, a human approves it and it is delivered', async () => {
    const [a, b] = await pair();
    assert.equal((await a.api.put<GuardSettings>('/api/me/guard', { leak_guard: true })).body.leak_guard, true);
    const held = await a.api.post<SendOutput>('/api/messages', {
      recipient_id: b.id,
      subject: 'creds',
      body: `the deploy token is ${TOKEN}`,
      client_id: 'deploy-1',
    });
    assert.equal(held.status, 202);
    assert.equal(held.body.status, 'held_for_approval');
    const retry = await a.api.post<SendOutput>('/api/messages', {
      recipient_id: b.id,
      subject: 'creds',
      body: `the deploy token is ${TOKEN}`,
      client_id: 'deploy-1',
    });
    assert.deepEqual(retry.body, held.body, 'a retry answers with the message already held');
    assert.equal((await b.api.get<InboxOutput>('/api/inbox')).body.messages.length, 0, 'nothing reached the recipient');
    const list = (await a.api.get<{ held: HeldMessage[] }>('/api/held')).body.held;
    assert.deepEqual(
      list.map((h) => h.id),
      [held.body.id],
    );
    assert.match(list[0]!.reasons.join(), /github/);
    assert.ok(!list[0]!.reasons.join().includes(TOKEN), 'reasons never repeat the secret');

    const ma = await mcp(a);
    assert.deepEqual(
      ma.tools.filter((tool) => /held|approve/.test(tool.name)).map((tool) => tool.name),
      [],
      'no MCP tool approves held mail',
    );
    const byTool = await ma.call('a2a_send_message', { recipient_id: b.id, body: `again: ${TOKEN}` });
    assert.equal(ok(byTool, 'held via MCP').status, 'held_for_approval');
    assert.match(byTool.text, /HELD/);
    const attempt = await ma
      .call('a2a_approve_held', { message_id: held.body.id })
      .catch((error: Error) => ({ isError: true, text: error.message }));
    assert.ok(attempt.isError, `no tool approves held mail: ${attempt.text}`);
    assert.equal((await a.api.get<{ held: HeldMessage[] }>('/api/held')).body.held.length, 2, 'still held after the MCP attempts');

    const approved = await a.api.post<SendOutput>(`/api/held/${held.body.id}/approve`);
    assert.equal(approved.status, 202);
    assert.deepEqual([approved.body.id, approved.body.status], [held.body.id, 'queued']);
    const inbox = (await b.api.get<InboxOutput>('/api/inbox')).body.messages;
    assert.deepEqual(
      inbox.map((m) => [m.id, m.body]),
      [[held.body.id, `the deploy token is ${TOKEN}`]],
    );
    assert.equal((await a.api.post(`/api/held/${held.body.id}/approve`)).body.error.code, 'held_not_found', 'approved once');

    const other = (await a.api.get<{ held: HeldMessage[] }>('/api/held')).body.held[0]!;
    assert.deepEqual((await a.api.del(`/api/held/${other.id}`)).body, { discarded: true });
    assert.equal((await a.api.get<{ held: HeldMessage[] }>('/api/held')).body.held.length, 0);
    assert.equal((await b.api.get<InboxOutput>('/api/inbox?unread_only=true')).body.messages.length, 1, 'the discarded one never arrives');
    const actions = (await auditActions(a)).map((e) => e.action);
    assert.ok(actions.includes('held.approved') && actions.includes('held.discarded'));
    assert.equal(
      (await b.api.post(`/api/held/${other.id}/approve`)).body.error.code,
      'held_not_found',
      "someone else's held mail is not yours to approve",
    );
  });

  test("the agent's own API key and delivery secret never leave, whatever the policy", async () => {
    const [a, b] = await pair();
    const secret = (await a.api.post<{ delivery_secret: string }>('/api/me/delivery-secret/rotate')).body.delivery_secret;
    for (const body of [`my key: ${a.key}`, `secret=${secret}`]) {
      const r = await a.api.post('/api/messages', { recipient_id: b.id, body });
      assert.equal(r.status, 422);
      assert.equal(r.body.error.code, 'secret_blocked');
    }
    refused(await (await mcp(a)).call('a2a_send_message', { recipient_id: b.id, body: `key ${a.key}` }), 'secret_blocked', 'via MCP');
    assert.equal(
      (await a.api.post('/api/messages', { recipient_id: b.id, body: `someone else's: ${b.key}` })).status,
      202,
      "another agent's key is the policy's business",
    );
  });
});
