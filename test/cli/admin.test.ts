/**
 * `amtp admin …` run as an operator would, beside a running server, on both backends: each command's
 * effect through the API, and its entry in the server audit log (a verifiable hash chain).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { amtp, type CliResult } from '../helpers/cli.js';
import { mcpClient } from '../helpers/mcp.js';
import { postgresSkip } from '../helpers/postgres.js';
import { client, connect, register, startServer, type Backend, type TestAgent, type TestServer } from '../helpers/server.js';

const skips: Record<Backend, string | undefined> = { sqlite: undefined, postgres: postgresSkip('amtp admin on PostgreSQL') };

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`amtp admin on ${backend}`, { skip: skips[backend] }, () => {
    let t: TestServer;
    let a: TestAgent;
    let b: TestAgent;
    const admin = (...args: string[]) =>
      amtp(['admin', ...args], t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : { AMTP_DATA_DIR: t.dataDir });
    const json = (r: CliResult) => {
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    /** The newest server audit entry, read through the CLI, after checking the whole chain verifies. */
    const lastEntry = async () => {
      const log = json(await admin('audit', '--json'));
      assert.equal(log.valid, true);
      return log.entries.at(-1);
    };

    before(async () => {
      t = await startServer({ AMTP_REGISTRATION: 'invite' }, { backend });
      const invites = [await t.server.core.admin.createInvite(null), await t.server.core.admin.createInvite(null)];
      a = await register(t.url, undefined, { invite: invites[0]!.invite });
      b = await register(t.url, undefined, { invite: invites[1]!.invite });
      await connect(a, b);
    });
    after(() => t?.close());

    test('agents: lists every agent; recorded', async () => {
      const { agents } = json(await admin('agents', '--json'));
      assert.deepEqual(
        agents.map((x: { name: string }) => x.name),
        [a.name, b.name],
      );
      assert.equal(agents[0].suspended_at, null);
      const text = await admin('agents', '--limit', '1', '--offset', '1');
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`${b.id}\\s+${b.name}\\s+\\S+\\s+active`));
      assert.doesNotMatch(text.stdout, new RegExp(a.id));
      const entry = await lastEntry();
      assert.equal(entry.action, 'admin.agents.listed');
      assert.deepEqual([entry.details.offset, entry.details.limit, entry.details.returned], [1, 1, 1]);
      assert.equal(typeof entry.details.operator, 'string');
    });

    test('suspend: the key is refused with agent_suspended, nobody can message or contact it; unsuspend restores it; both recorded', async () => {
      const r = await admin('suspend', a.name, '--reason', 'key reported stolen');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /suspended since/);
      let entry = await lastEntry();
      assert.deepEqual(
        [entry.action, entry.target_id, entry.details.reason, entry.details.name],
        ['admin.agent.suspended', a.id, 'key reported stolen', a.name],
      );

      for (const res of [await a.api.get('/api/me'), await a.api.get('/api/inbox')]) {
        assert.equal(res.status, 403);
        assert.equal(res.body.error.code, 'agent_suspended');
      }
      const stream = await fetch(`${t.url}/api/inbox/stream`, { headers: { authorization: `Bearer ${a.key}` } });
      assert.deepEqual([stream.status, (await stream.json()).error.code], [403, 'agent_suspended'], 'no new stream either');
      const mcp = await mcpClient(t.url, a.key);
      try {
        const whoami = await mcp.call('a2a_whoami');
        assert.deepEqual([whoami.isError, whoami.data?.error?.code], [true, 'agent_suspended'], 'nor over /mcp');
      } finally {
        await mcp.close();
      }
      const send = await b.api.post('/api/messages', { recipient_id: a.id, body: 'hello?' });
      assert.deepEqual([send.status, send.body.error.code], [403, 'not_authorized'], 'exactly as for an unknown agent');
      const ask = await b.api.post('/api/contact-requests', { agent_id: a.id });
      assert.deepEqual([ask.status, ask.body.error.code], [404, 'agent_not_found']);
      for (const path of [`/api/agents/${a.name}`, `/api/agents/${a.id}/capabilities`])
        assert.equal((await b.api.get(path)).status, 404, path);

      const again = await admin('suspend', a.id);
      assert.match(again.stdout, /unchanged/);
      assert.equal((await lastEntry()).action, 'admin.agent.suspended', 'a no-op adds no entry');
      assert.equal((await lastEntry()).seq, entry.seq);

      assert.equal((await admin('unsuspend', a.id)).code, 0);
      entry = await lastEntry();
      assert.deepEqual([entry.action, entry.target_id], ['admin.agent.unsuspended', a.id]);
      assert.equal((await a.api.get('/api/me')).status, 200);
      assert.equal((await b.api.post('/api/messages', { recipient_id: a.id, body: 'back' })).status, 202);
      const own = (await a.api.get('/api/me/audit')).body.entries.map((e: { action: string }) => e.action);
      assert.deepEqual(own.slice(-2), ['agent.suspended', 'agent.unsuspended'], 'the owner sees it in its own log');
    });

    test('reset-key: prints a new key once; the old one is refused at once; recorded', async () => {
      const r = await admin('reset-key', a.name);
      assert.equal(r.code, 0, r.stderr);
      const key = r.stdout.trim();
      assert.match(key, /^a2a_sk_[A-Za-z0-9_-]{43}$/);
      assert.match(r.stderr, /shown once/);
      assert.equal((await a.api.get('/api/me')).status, 401);
      a = { ...a, key, api: client(t.url, key) };
      assert.equal((await a.api.get('/api/me')).body.agent_id, a.id);
      const entry = await lastEntry();
      assert.deepEqual([entry.action, entry.target_id], ['admin.api_key.reset', a.id]);
      assert.equal(JSON.stringify(entry).includes(key), false, 'the key itself is never logged');
      assert.equal((await a.api.get('/api/me/audit')).body.entries.at(-1).action, 'api_key.reset');
    });

    test('invites: create, list, revoke; a revoked invite cannot register; each recorded', async () => {
      const created = await admin('invite-create', '--ttl-hours', '2');
      assert.equal(created.code, 0, created.stderr);
      const token = created.stdout.trim();
      let entry = await lastEntry();
      assert.equal(entry.action, 'admin.invite.created');
      const id = entry.target_id as string;

      const { invites } = json(await admin('invites', '--json'));
      assert.deepEqual(invites.map((i: { status: string }) => i.status).sort(), ['open', 'used', 'used']);
      assert.equal(invites.find((i: { status: string }) => i.status === 'open').invite_id, id);
      assert.equal((await lastEntry()).action, 'admin.invites.listed');

      const revoked = await admin('revoke-invite', id.slice(0, 10));
      assert.equal(revoked.code, 0, revoked.stderr);
      entry = await lastEntry();
      assert.deepEqual([entry.action, entry.target_id], ['admin.invite.revoked', id]);
      const res = await client(t.url).post('/api/register', { name: `late-${process.pid}`, invite: token });
      assert.deepEqual([res.status, res.body.error.code], [403, 'invalid_invite']);

      const twice = await admin('revoke-invite', id);
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /revoked; only an open invite/);
    });

    test('delete: needs --yes; removes the agent and the mail it is part of; recorded', async () => {
      await a.api.post('/api/messages', { recipient_id: b.id, body: 'soon gone' });
      const unconfirmed = await admin('delete', b.name);
      assert.equal(unconfirmed.code, 2);
      assert.match(unconfirmed.stderr, /--yes/);
      assert.equal((await b.api.get('/api/me')).status, 200);

      const r = await admin('delete', b.name, '--yes');
      assert.equal(r.code, 0, r.stderr);
      const entry = await lastEntry();
      assert.deepEqual([entry.action, entry.target_id, entry.details.name], ['admin.agent.deleted', b.id, b.name]);
      assert.equal((await b.api.get('/api/me')).status, 401);
      assert.deepEqual((await a.api.get('/api/outbox')).body.messages, []);
      assert.deepEqual((await a.api.get('/api/peers')).body.peers, []);
      assert.equal((await client(t.url).get(`/api/agents/${b.name}`)).status, 404);
    });

    test('an unknown agent or command is refused with a clear message', async () => {
      const unknown = await admin('suspend', 'nobody-here');
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /No agent with that id or name/);
      const bad = await admin('frobnicate');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /unknown admin command/);
    });

    test('audit: the log lists every action in order, and an edited entry is detected', async () => {
      const log = json(await admin('audit', '--json'));
      const actions = log.entries.map((e: { action: string }) => e.action);
      for (const action of [
        'admin.invite.created',
        'admin.agents.listed',
        'admin.agent.suspended',
        'admin.agent.unsuspended',
        'admin.api_key.reset',
        'admin.invites.listed',
        'admin.invite.revoked',
        'admin.agent.deleted',
      ]) {
        assert.ok(actions.includes(action), action);
      }
      assert.deepEqual(
        log.entries.map((e: { seq: number }) => e.seq),
        actions.map((_: string, i: number) => i + 1),
      );
      await t.sql(
        "UPDATE server_audit SET action = 'admin.agents.listed' WHERE seq = ?",
        log.entries.find((e: { action: string }) => e.action === 'admin.agent.deleted').seq,
      );
      const tampered = await admin('audit');
      assert.equal(tampered.code, 4);
      assert.match(tampered.stdout, /CHAIN BROKEN at seq \d+/);
    });
  });
}
