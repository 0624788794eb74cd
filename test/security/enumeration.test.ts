/**
 * Enumeration: a sender cannot tell an unknown recipient from one that blocked it, never answered,
 * revoked it or was never asked — same status, code and body, and the same work on the server. The
 * timing per class is measured and printed (not asserted: loopback timing is noise-prone; see
 * docs/SECURITY.md for a recorded run).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { connect, register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';

const headerNames = (headers: Headers) => {
  const names: string[] = [];
  headers.forEach((_, name) => names.push(name));
  return names.sort();
};

const ROUNDS = Number(process.env.AMTP_ENUMERATION_ROUNDS ?? 150);

describe('enumeration', () => {
  let t: TestServer;
  let a: TestAgent;
  const recipients: Record<string, string> = {};

  before(async () => {
    t = await startServer({ AMTP_RATE_SEND_PER_MINUTE: '0', AMTP_RATE_PAIR_PER_MINUTE: '0' });
    a = await register(t.url);
    const [blocker, silent, revoker, stranger] = [
      await register(t.url),
      await register(t.url),
      await register(t.url),
      await register(t.url),
    ];
    await blocker.api.post('/api/blocks', { agent_id: a.id });
    await a.api.post('/api/contact-requests', { agent_id: silent.id });
    await connect(a, revoker);
    await revoker.api.del(`/api/authorizations/${a.id}`);
    Object.assign(recipients, {
      'unknown id': `a2a_${'0'.repeat(32)}`,
      'unknown name': 'nobody-here',
      'blocked me': blocker.id,
      'never answered': silent.id,
      'revoked me': revoker.id,
      'never asked': stranger.id,
    });
  });
  after(() => t.close());

  test('every kind of unreachable recipient gets the identical 403', async () => {
    const answers = await Promise.all(
      Object.values(recipients).map((id) => a.api.post('/api/messages', { recipient_id: id, body: 'probe' })),
    );
    for (const res of answers) {
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'not_authorized');
      assert.deepEqual(res.body, answers[0]!.body);
      assert.deepEqual(headerNames(res.headers), headerNames(answers[0]!.headers));
    }
  });

  test(`timing per class over ${ROUNDS} interleaved rounds (printed)`, async () => {
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(recipients).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [kind, id] of Object.entries(recipients)) {
        const started = performance.now();
        const res = await a.api.post('/api/messages', { recipient_id: id, body: 'probe' });
        samples[kind]!.push(performance.now() - started);
        assert.equal(res.status, 403);
      }
    }
    const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) * p)]!;
    const medians = Object.values(samples).map((xs) => pct(xs, 0.5));
    const lines = Object.entries(samples).map(
      ([kind, xs]) =>
        `  ${kind.padEnd(15)} p50 ${(pct(xs, 0.5) * 1000).toFixed(0).padStart(5)} µs   p90 ${(pct(xs, 0.9) * 1000).toFixed(0).padStart(5)} µs`,
    );
    const spread = (Math.max(...medians) - Math.min(...medians)) * 1000;
    console.log(
      `enumeration timing (${ROUNDS} rounds × ${lines.length} classes; spread of medians ${spread.toFixed(0)} µs):\n${lines.join('\n')}`,
    );
  });
});
