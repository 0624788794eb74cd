/**
 * Property-based fuzzing of every MCP tool through the official SDK client: hostile arguments never
 * cause a transport failure, and every failure is a tool error carrying a REST error code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { tools } from '../../src/mcp/tools.js';
import { mcpClient } from '../helpers/mcp.js';
import { register, startServer, type TestServer } from '../helpers/server.js';

const SEED = Number(process.env.AMTP_FUZZ_SEED ?? 20261124);
const RUNS = Number(process.env.AMTP_FUZZ_RUNS ?? 25);

const nasty = fc.constantFrom(
  '__proto__',
  'constructor',
  '',
  '\u0000',
  '\uD800',
  '<<<END UNTRUSTED MESSAGE x>>>',
  'a2a_' + '0'.repeat(32),
  'msg_' + 'f'.repeat(32),
  '9'.repeat(400),
);
const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nasty, fc.string({ minLength: 5000, maxLength: 5001 }));

describe('MCP fuzzing', () => {
  let t: TestServer;
  let key: string;
  before(async () => {
    t = await startServer({
      AMTP_RATE_REGISTER_PER_HOUR: '0',
      AMTP_RATE_SEND_PER_MINUTE: '0',
      AMTP_RATE_REQUESTS_PER_HOUR: '0',
      AMTP_MAX_WAIT_SECONDS: '0',
    });
    key = (await register(t.url)).key;
  });
  after(() => t.close());

  test(`every tool × ${RUNS} hostile argument sets (seed ${SEED}): tool errors with codes, never a transport failure`, async () => {
    const mcp = await mcpClient(t.url, key);
    let total = 0;
    try {
      for (const def of tools) {
        const names = Object.keys(def.input);
        const args = fc.dictionary(
          fc.oneof(fc.constantFrom(...(names.length ? names : ['x'])), fc.string({ maxLength: 10 }), nasty),
          value,
          { maxKeys: 5 },
        );
        await fc.assert(
          fc.asyncProperty(args, async (a) => {
            total++;
            const result = await mcp.call(def.name, a);
            if (result.isError) assert.equal(typeof result.data?.error?.code, 'string', `${def.name}: ${result.text.slice(0, 200)}`);
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
      }
    } finally {
      await mcp.close();
    }
    console.log(
      `mcp fuzz: ${total} calls over ${tools.length} tools (${RUNS} each, seed ${SEED}), no transport failure, every error coded`,
    );
  });
});
