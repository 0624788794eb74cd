/**
 * Every tool, over both MCP transports — the server's /mcp and the local stdio proxy `amtp mcp` —
 * through the official SDK client, which lists the tools first (and from then on validates each
 * result against the tool's outputSchema): each tool's success path and at least one error path.
 * Errors must arrive as readable tool results, never as SDK exceptions.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mcpClient, mcpProxy, type McpSession, type ToolCallResult } from '../helpers/mcp.js';
import { startServer, type TestServer } from '../helpers/server.js';

const MISSING = `thr_${'0'.repeat(32)}`;

interface Transport {
  name: string;
  /** A registered agent's session; `before` runs the calls that must come before registration. */
  agent(name: string, before?: (s: McpSession) => Promise<void>): Promise<McpSession>;
}

/** Asserts a readable tool error with this code: isError, no structuredContent, "Error <code>: <sentence>". */
function refused(r: ToolCallResult, code: string, what: string): void {
  assert.equal(r.isError, true, `${what}: ${r.text}`);
  assert.equal(r.structuredContent, undefined, what);
  assert.equal(r.data.error?.code, code, `${what}: ${r.text}`);
  assert.ok(r.data.error.message.length > 20, `${what}: the sentence says what to do`);
}

function ok(r: ToolCallResult, what: string): any {
  assert.notEqual(r.isError, true, `${what}: ${r.text}`);
  return r.data;
}

describe('every MCP tool over /mcp and over amtp mcp', () => {
  let t: TestServer;
  const dirs: string[] = [];
  const sessions: McpSession[] = [];
  before(async () => {
    t = await startServer();
  });
  after(async () => {
    for (const s of sessions) await s.close();
    await t.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const remote: Transport = {
    name: '/mcp',
    async agent(name, before) {
      const anon = await mcpClient(t.url);
      sessions.push(anon);
      await before?.(anon);
      const key = ok(await anon.call('a2a_register', { name }), 'register').api_key;
      const s = await mcpClient(t.url, key);
      sessions.push(s);
      return s;
    },
  };
  const proxy: Transport = {
    name: 'amtp mcp',
    async agent(name, before) {
      const dir = mkdtempSync(join(tmpdir(), 'amtp-mcp-proxy-'));
      dirs.push(dir);
      // No profile yet: the proxy starts anyway and offers a2a_register.
      const s = await mcpProxy(dir, ['--server', t.url]);
      sessions.push(s);
      await before?.(s);
      const out = ok(await s.call('a2a_register', { name }), 'register');
      assert.equal(out.name, name);
      assert.ok(existsSync(out.keyring), 'the profile is saved locally');
      assert.ok(!JSON.stringify(out).includes('a2a_sk_'), 'the API key never reaches the model');
      return s;
    },
  };

  for (const transport of [remote, proxy]) {
    test(`${transport.name}: success and error paths of all 23 tools`, async () => {
      const p = transport.name === '/mcp' ? 'rm' : 'px';
      const seen = new Set<string>();
      const call = async (s: McpSession, name: string, args: Record<string, unknown> = {}) => (seen.add(name), s.call(name, args));

      const a = await transport.agent(`${p}-alice`, async (anon) => {
        refused(await call(anon, 'a2a_whoami'), 'invalid_api_key', 'whoami before registering');
        refused(await call(anon, 'a2a_list_peers'), 'invalid_api_key', 'peers before registering');
        refused(await call(anon, 'a2a_register', { name: 'NO spaces!' }), 'invalid_request', 'register with a bad name');
      });
      const b = await transport.agent(`${p}-bob`);
      const c = await transport.agent(`${p}-carol`);
      assert.equal(a.tools.length, 23);

      assert.equal(ok(await call(a, 'a2a_whoami'), 'whoami').name, `${p}-alice`);
      refused(
        await call(a, 'a2a_register', { name: `${p}-alice` }),
        transport === remote ? 'name_taken' : 'invalid_request',
        'register again',
      );

      ok(await call(b, 'a2a_set_capabilities', { capabilities: [{ id: 'scheduling', title: 'Calendar' }] }), 'set capabilities');
      refused(
        await call(b, 'a2a_set_capabilities', { capabilities: [{ id: 'bad', title: 'x', input_schema: { type: 'nonsense' } }] }),
        'invalid_schema',
        'invalid schema',
      );
      assert.deepEqual(
        ok(await call(a, 'a2a_get_agent_capabilities', { agent_id: `${p}-bob` }), 'capabilities').capabilities.map((x: any) => x.id),
        ['scheduling'],
      );
      refused(await call(a, 'a2a_get_agent_capabilities', { agent_id: `${p}-nobody` }), 'agent_not_found', 'capabilities of nobody');

      const req = ok(await call(a, 'a2a_request_contact', { agent_id: `${p}-bob`, scopes: ['message', 'scheduling'] }), 'request');
      refused(await call(a, 'a2a_request_contact', { agent_id: `${p}-nobody` }), 'agent_not_found', 'request nobody');
      assert.deepEqual(
        ok(await call(b, 'a2a_list_requests', { direction: 'incoming' }), 'requests').requests.map((r: any) => r.id),
        [req.id],
      );
      refused(await call(b, 'a2a_list_requests', { status: 'maybe' }), 'invalid_request', 'bad status');
      assert.equal(ok(await call(b, 'a2a_authorize_agent', { agent_id: `${p}-alice` }), 'authorize').state, 'mutual');
      refused(await call(b, 'a2a_authorize_agent', { agent_id: `${p}-nobody` }), 'agent_not_found', 'authorize nobody');
      assert.equal(ok(await call(a, 'a2a_list_peers'), 'peers').peers[0].state, 'mutual');

      const sent = ok(await call(a, 'a2a_send_message', { recipient_id: `${p}-bob`, subject: 'lunch', body: 'thursday?' }), 'send');
      const unknown = await call(a, 'a2a_send_message', { recipient_id: `${p}-nobody`, body: 'hi' });
      refused(unknown, 'not_authorized', 'send to an unknown name: the enumeration-safe REST answer');
      const inbox = ok(await call(b, 'a2a_check_inbox', { unread_only: true }), 'inbox');
      assert.equal(inbox.messages[0].body, 'thursday?');
      refused(await call(b, 'a2a_check_inbox', { limit: 0 }), 'invalid_request', 'inbox limit 0');
      const reply = ok(await call(b, 'a2a_send_message', { recipient_id: `${p}-alice`, body: 'yes, noon', reply_to_id: sent.id }), 'reply');

      const status = await call(a, 'a2a_message_status', { message_id: sent.id });
      assert.equal(ok(status, 'status').status, 'delivered');
      assert.match(status.text, /<<<YOUR OWN MESSAGE [0-9a-f]{12} · sent by you to /, 'its own message is labelled as its own');
      assert.doesNotMatch(status.text, /UNTRUSTED/);
      refused(await call(a, 'a2a_message_status', { message_id: `msg_${'0'.repeat(32)}` }), 'message_not_found', 'status of nothing');
      const thread = await call(a, 'a2a_get_thread', { thread_id: sent.thread_id });
      assert.deepEqual(
        ok(thread, 'thread').messages.map((m: any) => m.id),
        [sent.id, reply.id],
      );
      assert.equal(thread.text.match(/^<<<YOUR OWN MESSAGE /gm)?.length, 1);
      assert.equal(thread.text.match(/^<<<UNTRUSTED MESSAGE /gm)?.length, 1);
      refused(await call(a, 'a2a_get_thread', { thread_id: MISSING }), 'thread_not_found', 'thread of nothing');

      assert.deepEqual(ok(await call(b, 'a2a_mark_read', { message_id: sent.id }), 'mark one').marked, 1);
      refused(await call(a, 'a2a_mark_read'), 'invalid_request', 'mark read with neither id nor all');
      assert.equal(ok(await call(a, 'a2a_mark_read', { all: true }), 'mark all').marked, 1);
      const outbox = await call(a, 'a2a_list_sent');
      assert.deepEqual(
        ok(outbox, 'sent').messages.map((m: any) => m.id),
        [sent.id],
      );
      assert.equal(outbox.data.messages[0].status, 'read');
      assert.match(outbox.text, /YOUR OWN MESSAGE/);
      refused(await call(a, 'a2a_list_sent', { limit: 0 }), 'invalid_request', 'sent limit 0');

      const creq = ok(await call(c, 'a2a_request_contact', { agent_id: `${p}-bob` }), 'carol asks');
      assert.equal(ok(await call(b, 'a2a_decline_request', { request_id: creq.id }), 'decline').status, 'declined');
      refused(await call(b, 'a2a_decline_request', { request_id: creq.id }), 'request_not_pending', 'decline twice');
      assert.equal(ok(await call(b, 'a2a_unblock_agent', { agent_id: `${p}-carol` }), 'unblock').unblocked, true);
      refused(await call(b, 'a2a_unblock_agent', { agent_id: `${p}-nobody` }), 'agent_not_found', 'unblock nobody');

      assert.equal(ok(await call(b, 'a2a_revoke_agent', { agent_id: `${p}-alice` }), 'revoke').revoked, true);
      refused(await call(b, 'a2a_revoke_agent', { agent_id: `${p}-nobody` }), 'agent_not_found', 'revoke nobody');
      const revoked = await call(a, 'a2a_send_message', { recipient_id: `${p}-bob`, body: 'still there?' });
      refused(revoked, 'not_authorized', 'the revoked side');
      assert.equal(revoked.text, unknown.text, 'the revoked side cannot tell a revocation from an unknown name');
      const revoker = await call(b, 'a2a_send_message', { recipient_id: `${p}-alice`, body: 'hello again' });
      refused(revoker, 'not_authorized', 'the revoking side');
      assert.match(revoker.text, /You revoked .*a2a_authorize_agent/);

      // The A2A outbound tool's success path needs an A2A agent: test/a2a/outbound.test.ts.
      refused(
        await call(a, 'a2a_send_to_a2a_agent', { agent_card_url: 'https://10.0.0.1/.well-known/agent-card.json', body: 'hi' }),
        'invalid_agent_card_url',
        'an A2A agent at a private address',
      );

      const audit = ok(await call(b, 'a2a_audit_log', { limit: 10 }), 'audit');
      assert.equal(audit.chain_valid, true);
      refused(await call(b, 'a2a_audit_log', { limit: 0 }), 'invalid_request', 'audit limit 0');

      // attention (issue 18; its own suite is test/attention)
      assert.equal(ok(await call(b, 'a2a_inbox_digest'), 'digest').unread_count, 0);
      refused(await call(b, 'a2a_ack', { message_id: `msg_${'0'.repeat(32)}`, outcome: 'done' }), 'message_not_found', 'ack nothing');
      const acked = ok(await call(b, 'a2a_ack', { message_id: sent.id, outcome: 'done', note: 'booked' }), 'ack').processed;
      assert.equal(acked.outcome, 'done');
      assert.equal(Boolean(acked.ed25519_signature), transport === proxy, 'the local proxy signs the receipt with the local key');
      refused(
        await call(b, 'a2a_decline_deadline', { message_id: sent.id, reason: 'busy' }),
        'no_pending_deadline',
        'decline without a deadline',
      );
      assert.equal(
        ok(await call(b, 'a2a_quiet_hours', { time_zone: 'Europe/Paris', start: '22:00', end: '07:00' }), 'quiet hours').quiet_hours.end,
        '07:00',
      );
      refused(
        await call(b, 'a2a_quiet_hours', { time_zone: 'Mars/Olympus', start: '22:00', end: '07:00' }),
        'invalid_request',
        'unknown time zone',
      );

      assert.deepEqual([...seen].sort(), a.tools.map((x) => x.name).sort(), 'every tool was called');
    });
  }

  test('amtp mcp: an unreachable server is network_error; sends report sealing and signing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amtp-mcp-proxy-'));
    dirs.push(dir);
    const s = await mcpProxy(dir);
    sessions.push(s);
    refused(await s.call('a2a_register', { name: 'px-nowhere' }), 'invalid_request', 'register without a server');
    const dead = await mcpProxy(dir, ['--server', 'http://127.0.0.1:9']);
    sessions.push(dead);
    refused(await dead.call('a2a_register', { name: 'px-nowhere' }), 'network_error', 'register against a dead server');

    const x = await proxy.agent('px-sealer');
    const y = await proxy.agent('px-opener');
    await x.call('a2a_request_contact', { agent_id: 'px-opener' });
    await y.call('a2a_authorize_agent', { agent_id: 'px-sealer' });
    const sent = await x.call('a2a_send_message', { recipient_id: 'px-opener', body: 'sealed, please' });
    assert.match(sent.text, /202 queued · msg_\w+ · thread thr_\w+ · sealed end to end, signed/);
  });
});
