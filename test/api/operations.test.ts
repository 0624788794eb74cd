/**
 * The operation table (src/protocol/operations.ts) is the one list of the API. Each binding is
 * checked against it in both directions: the Fastify app's routes, the SDK client's methods and the
 * MCP tools. An operation in one binding and not in the table (or the reverse) fails here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AmtpApiError, AmtpClient } from '../../src/client/client.js';
import type { MailboxApi } from '../../src/protocol/api.js';
import { errorCodes } from '../../src/protocol/operation-schemas.js';
import { OPERATION_NAMES, OPERATIONS, type OperationName } from '../../src/protocol/operations.js';
import { ERRORS } from '../../src/protocol/errors.js';
import { tools } from '../../src/mcp/tools.js';
import { startServer, type TestServer } from '../helpers/server.js';

const key = (method: string, path: string) => `${method} ${path}`;
const TABLE = new Map(OPERATION_NAMES.map((name) => [key(OPERATIONS[name].method, OPERATIONS[name].path), name]));

/** REST endpoints under /api that are not request/response operations, so not in the table. */
const STREAMING = [key('GET', '/api/inbox/stream')];

/** Operations offered over REST and the SDK but deliberately not as MCP tools. */
const NOT_MCP_TOOLS: OperationName[] = [
  'rotateApiKey',
  'setKeys',
  'rotateDeliverySecret', // secrets and keys are the human's and the client's, not the model's
  'profile',
  'taxonomy',
  'approve',
  'block', // a2a_get_agent_capabilities, a2a_authorize_agent and a2a_decline_request cover these needs
  'conversations',
  'conversation',
  'markConversationRead', // the web UI's views; models use the inbox and threads
  'setWebhook',
  'webhook',
  'deleteWebhook',
  'testWebhook',
  'webhookDeliveries',
  'redeliver', // operator set-up
  'guard',
  'setGuard',
  'setBudget',
  'clearLoop',
  'held',
  'approveHeld',
  'discardHeld', // the human's guard rails: never the model's (SPEC §17)
];

/** SDK methods that are not operations of the table. */
const CLIENT_HELPERS = ['constructor', 'request', 'call', 'serverInfo', 'stream'];

/** Every route of the Fastify app, read from its route tree (each line's segment extends its parent's path). */
function fastifyRoutes(tree: string): string[] {
  const prefixes: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ├└─]*)(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (prefixes[depth - 1] ?? '') + m[2]!;
    prefixes[depth] = path;
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) routes.push(key(method, path));
  }
  return routes;
}

describe('one operation table, and every binding covers it', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  test('REST: the app serves exactly the operations of the table under /api (the stream aside)', () => {
    const served = fastifyRoutes(t.server.app.printRoutes({ commonPrefix: false })).filter((r) => r.split(' ')[1]!.startsWith('/api/'));
    assert.ok(served.length > 0, 'the route tree was read');
    for (const r of served) assert.ok(TABLE.has(r) || STREAMING.includes(r), `${r} is served but is not in the operation table`);
    for (const name of OPERATION_NAMES) {
      const { method, path } = OPERATIONS[name];
      assert.ok(served.includes(key(method, path)), `${name} (${method} ${path}) is in the table but not served`);
      assert.ok(t.server.app.hasRoute({ method, url: path }), `${name} has a Fastify route`);
    }
  });

  test('SDK: AmtpClient has one method per operation, named after it, that calls its method and path on the server', async () => {
    const sent: string[] = [];
    const recording: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      sent.push(key(init?.method ?? 'GET', url.pathname));
      return fetch(input, init);
    };
    const { api_key } = await new AmtpClient({ baseUrl: t.url }).register({ name: `ops-${Date.now().toString(36)}` });
    const client = new AmtpClient({ baseUrl: t.url, apiKey: api_key, fetch: recording });
    const methods = Object.getOwnPropertyNames(AmtpClient.prototype).filter((m) => !CLIENT_HELPERS.includes(m));
    for (const m of methods) assert.ok(m in OPERATIONS, `AmtpClient.${m} is not an operation of the table`);
    for (const name of OPERATION_NAMES) {
      assert.equal(typeof (client as unknown as Record<string, unknown>)[name], 'function', `AmtpClient lacks ${name}`);
      sent.length = 0;
      try {
        await (client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!(
          'a2a_0123456789abcdef0123456789abcdef',
        );
      } catch (error) {
        assert.ok(error instanceof AmtpApiError, `${name}: ${String(error)}`);
        assert.notEqual(error.code, 'not_found', `${name}: the server has no such endpoint (${sent.join(', ')})`);
      }
      assert.equal(sent.length, 1, `${name} sends one request`);
      const [method, path] = sent[0]!.split(' ') as [string, string];
      const { method: expected, path: template } = OPERATIONS[name];
      assert.equal(method, expected, `${name} method`);
      assert.match(path, new RegExp(`^${template.replace(/:\w+/g, '[^/]+')}$`), `${name} path`);
    }
  });

  test('MCP: each tool names the operations it calls, from the table; every operation is a tool or deliberately not one', async () => {
    const covered = new Set<string>();
    for (const tool of tools) {
      const called = new Set<string>();
      const api = new Proxy({} as MailboxApi, {
        get: (_target, method: string) => () => {
          called.add(method);
          return Promise.reject(new Error('recorded'));
        },
      });
      const ctx = { api, signatureOf: () => 'not checked' as const, selfId: async () => 'a2a_self' };
      // Some tools call one operation or another depending on their arguments (a2a_mark_read, a2a_quiet_hours).
      const quiet = [{ remove: true }, { time_zone: 'UTC', start: '22:00', end: '07:00' }];
      for (const args of [{}, { message_id: 'msg_x' }, { all: true }, ...quiet]) await tool.run(ctx, args).catch(() => undefined);
      assert.ok(tool.operations.length > 0, `${tool.name} names its operations`);
      for (const name of tool.operations) assert.ok(name in OPERATIONS, `${tool.name}: ${name} is not in the operation table`);
      assert.deepEqual([...called].sort(), [...tool.operations].sort(), `${tool.name} calls exactly the operations it names`);
      assert.equal(
        tool.auth,
        tool.operations.some((name) => OPERATIONS[name].auth === 'agent'),
        `${tool.name} auth follows the table`,
      );
      for (const name of tool.operations) covered.add(name);
    }
    for (const name of OPERATION_NAMES) {
      assert.ok(
        covered.has(name) !== NOT_MCP_TOOLS.includes(name),
        `${name}: ${covered.has(name) ? 'is a tool but listed as not one' : 'has no MCP tool; add one or list it in NOT_MCP_TOOLS'}`,
      );
    }
  });

  test('the table: every error code an operation declares is a known code', () => {
    for (const name of OPERATION_NAMES) {
      const codes = errorCodes(name);
      assert.ok(codes.length > 0, name);
      for (const code of codes) assert.ok(code in ERRORS, `${name}: ${code}`);
    }
  });
});
