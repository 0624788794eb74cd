import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';
import { client, connect, register, startServer, untilListening, untilWaiting, type TestServer } from '../helpers/server.js';
import { openStream } from '../helpers/sse.js';
import type { ErrorBody } from '../../src/protocol/errors.js';
import type { InboxOutput, SendOutput } from '../../src/protocol/schemas.js';

const skip = postgresSkip('multi-instance suite');

describe('two server instances on one PostgreSQL database', { skip }, () => {
  let database: TestDatabase;
  let A: TestServer;
  let B: TestServer;
  before(async () => {
    database = await freshDatabase();
    [A, B] = await Promise.all([startServer({ DATABASE_URL: database.url }), startServer({ DATABASE_URL: database.url })]);
  });
  after(async () => {
    await Promise.all([A?.close(), B?.close()]);
    await database?.drop();
  });

  // The 20 s test timeout is the guard: a long-poll that is not woken only returns after 60 s.
  test('a message sent through A wakes a long-poll held on B', { timeout: 20_000 }, async () => {
    const alice = await register(A.url);
    const bob = await register(B.url);
    await connect(alice, bob);
    let settled = false;
    const poll = client(B.url, bob.key)
      .get<InboxOutput>('/api/inbox?wait=60')
      .finally(() => (settled = true));
    await untilWaiting(B.server, bob.id);
    assert.equal(settled, false, 'the long-poll is waiting');

    const sent = await alice.api.post<SendOutput>('/api/messages', { recipient_id: bob.id, body: 'across instances' });
    assert.equal(sent.status, 202);
    const res = await poll;
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.messages.map((m) => m.id),
      [sent.body.id],
    );
  });

  test('a stream on B sees live events of messages sent through A', async () => {
    const [alice, bob] = [await register(A.url), await register(A.url)];
    await connect(alice, bob);
    const stream = await openStream(B.url, bob.key);
    try {
      assert.equal(stream.status, 200);
      await untilListening(B.server, bob.id);
      while (stream.pending()) await stream.next();
      const sent = await alice.api.post('/api/messages', { recipient_id: bob.id, body: 'live' });
      let event = await stream.next();
      while (event.event !== 'message.received') event = await stream.next();
      assert.equal(event.data.data.message.id, sent.body.id);
    } finally {
      stream.close();
    }
  });

  test("rotating the API key through A ends the old key's stream and long-poll held on B at once", { timeout: 20_000 }, async () => {
    const alice = await register(A.url);
    const stream = await openStream(B.url, alice.key);
    assert.equal(stream.status, 200);
    const poll = client(B.url, alice.key).get<ErrorBody>('/api/inbox?wait=60');
    await untilWaiting(B.server, alice.id);
    const rotated = await alice.api.post('/api/me/api-key/rotate');
    assert.equal(rotated.status, 200);
    // The default heartbeat (15 s) is longer than the test's limit: only the cross-instance wake-up ends these in time.
    const last = await stream.next(10_000);
    assert.equal(last.event, 'stream.closed');
    assert.equal(last.data.reason, 'api_key_rotated');
    await stream.ended;
    const polled = await poll;
    assert.equal(polled.status, 401);
    assert.equal(polled.body.error.code, 'invalid_api_key');
  });
});
