/** The token buckets alone, on a clock the test moves. */
import assert from 'node:assert/strict';
import { beforeEach, describe, test, type TestContext } from 'node:test';
import { AmtpError } from '../protocol/errors.js';
import { RateLimiter } from './rate-limit.js';

const MINUTE = 60_000;

describe('RateLimiter', () => {
  let now: number;
  const clock = (t: TestContext) => t.mock.method(Date, 'now', () => now);
  beforeEach(() => (now = 1_700_000_000_000));

  const refused = (limiter: RateLimiter, key: string, capacity: number) => {
    try {
      limiter.take(key, capacity, MINUTE, 'messages');
    } catch (error) {
      assert.ok(error instanceof AmtpError);
      return error;
    }
    assert.fail('expected rate_limited');
  };

  test('a full bucket allows `capacity` takes in a burst, then refuses with rate_limited and when to retry', (t) => {
    clock(t);
    const limiter = new RateLimiter();
    for (let i = 0; i < 3; i++) limiter.take('k', 3, MINUTE, 'messages');
    const error = refused(limiter, 'k', 3);
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.retryAfter, 20, 'one token of 3 per minute refills in 20 s');
    assert.deepEqual(error.details, { retry_after: 20 });
    assert.match(error.message, /Too many messages\. Wait 20 s/);
  });

  test('tokens refill with time, never beyond the capacity', (t) => {
    clock(t);
    const limiter = new RateLimiter();
    for (let i = 0; i < 3; i++) limiter.take('k', 3, MINUTE, 'messages');
    now += 20_000;
    limiter.take('k', 3, MINUTE, 'messages');
    assert.equal(refused(limiter, 'k', 3).code, 'rate_limited');
    now += 10 * MINUTE;
    for (let i = 0; i < 3; i++) limiter.take('k', 3, MINUTE, 'messages');
    assert.equal(refused(limiter, 'k', 3).code, 'rate_limited');
  });

  test("the retry hint counts the refused attempt's shortfall, at least 1 s", (t) => {
    clock(t);
    const limiter = new RateLimiter();
    limiter.take('k', 600, MINUTE, 'messages');
    for (let i = 0; i < 599; i++) limiter.take('k', 600, MINUTE, 'messages');
    assert.equal(refused(limiter, 'k', 600).retryAfter, 1);
  });

  test('keys are separate buckets, and a capacity of 0 means no limit', (t) => {
    clock(t);
    const limiter = new RateLimiter();
    limiter.take('a', 1, MINUTE, 'messages');
    limiter.take('b', 1, MINUTE, 'messages');
    assert.equal(refused(limiter, 'a', 1).code, 'rate_limited');
    for (let i = 0; i < 1000; i++) limiter.take('c', 0, MINUTE, 'messages');
  });
});
