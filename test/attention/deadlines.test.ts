/**
 * Reply-by deadlines (issue 18 §2) through REST, with the clock driven by the test: shown to the
 * recipient, met by a reply, declined with a reason, and missed — once, even when reply_by passes
 * while the server is stopped (it fires after the restart, and never again).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Message } from '../../src/protocol/schemas.js';
import { ManualClock } from '../helpers/clock.js';
import { client, connect, register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';
import { eventsOf, eventually, wakeWorker } from './helpers.js';

const HOUR = 3_600_000;

describe('reply-by deadlines', () => {
  const clock = new ManualClock('2026-06-01T09:00:00Z');
  let t: TestServer;
  before(async () => {
    t = await startServer({}, { clock });
  });
  after(() => t.close());

  const pair = async (): Promise<[TestAgent, TestAgent]> => {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b);
    return [a, b];
  };
  const askBy = async (a: TestAgent, b: TestAgent, ms: number) => {
    const sent = await a.api.post('/api/messages', {
      recipient_id: b.id,
      body: 'can you send the figures?',
      reply_by: new Date(clock.now() + ms).toISOString(),
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    return sent.body as { id: string; thread_id: string };
  };
  /** The agent's REST client on the current URL (a restart moves the server to a new port). */
  const api = (agent: TestAgent) => client(t.url, agent.key);
  const status = async (agent: TestAgent, id: string) => (await api(agent).get<Message>(`/api/messages/${id}`)).body;

  test('the recipient sees reply_by; a reply in the thread meets it, and nothing fires after', async () => {
    const [a, b] = await pair();
    const asked = await askBy(a, b, 2 * HOUR);
    const [received] = (await b.api.get('/api/inbox')).body.messages as Message[];
    assert.equal(received!.reply_by, new Date(clock.now() + 2 * HOUR).toISOString());
    assert.deepEqual(received!.deadline, { state: 'pending', note: null, at: null });
    const reply = await b.api.post('/api/messages', { recipient_id: a.id, body: 'attached', reply_to_id: asked.id });
    assert.equal(reply.status, 202);
    assert.equal((await status(a, asked.id)).deadline?.state, 'met');
    clock.advance(3 * HOUR);
    wakeWorker(t);
    // The met deadline's outbox entry was settled with the reply: nothing is left to fire.
    await eventually(
      t,
      async () =>
        (await t.sql("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'deadline' AND queue = ? AND status = 'pending'", asked.id))[0]!.n == 0,
      'no pending deadline',
    );
    assert.deepEqual(await eventsOf(t, a.id, 'deadline.missed'), []);
    assert.equal((await status(a, asked.id)).deadline?.state, 'met');
  });

  test('reply_by must be in the future by the server clock', async () => {
    const [a, b] = await pair();
    const past = await a.api.post('/api/messages', {
      recipient_id: b.id,
      body: 'late',
      reply_by: new Date(clock.now() - 1000).toISOString(),
    });
    assert.equal(past.status, 400);
    assert.equal(past.body.error.code, 'invalid_request');
    assert.match(past.body.error.message, /future/);
  });

  test('the recipient declines ("can’t by then"): the sender sees the reason and hears deadline.declined; it is final', async () => {
    const [a, b] = await pair();
    const asked = await askBy(a, b, HOUR);
    const declined = await b.api.post(`/api/messages/${asked.id}/deadline/decline`, { reason: 'away until Monday' });
    assert.equal(declined.status, 200, JSON.stringify(declined.body));
    const seen = await status(a, asked.id);
    assert.equal(seen.deadline?.state, 'declined');
    assert.equal(seen.deadline?.note, 'away until Monday');
    const [event] = await eventsOf(t, a.id, 'deadline.declined');
    assert.equal(event?.message_id, asked.id);
    assert.equal(event?.reason, 'away until Monday');
    const again = await b.api.post(`/api/messages/${asked.id}/deadline/decline`, { reason: 'still away' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'no_pending_deadline');
    assert.equal(
      (await a.api.post(`/api/messages/${asked.id}/deadline/decline`, { reason: 'x' })).body.error.code,
      'message_not_found',
      'only the recipient declines',
    );
    clock.advance(2 * HOUR);
    wakeWorker(t);
    assert.deepEqual(await eventsOf(t, a.id, 'deadline.missed'), []);
  });

  test('a deadline that passes while the server is stopped fires once, after the restart, and shows as missed', async () => {
    const [a, b] = await pair();
    const asked = await askBy(a, b, HOUR);
    const other = await askBy(a, b, 48 * HOUR);
    await t.restart(() => clock.advance(HOUR + 1));
    const missed = await eventually(
      t,
      async () => (await eventsOf(t, a.id, 'deadline.missed')).length > 0 && eventsOf(t, a.id, 'deadline.missed'),
      'deadline.missed',
    );
    assert.deepEqual(
      missed.map((e) => e.message_id),
      [asked.id],
    );
    assert.equal(missed[0]!.recipient_id, b.id);
    assert.equal((await status(a, asked.id)).deadline?.state, 'missed');
    assert.equal((await status(b, asked.id)).deadline?.state, 'missed', 'the recipient sees it missed too');
    assert.equal((await status(a, other.id)).deadline?.state, 'pending', 'a later deadline is not due yet');
    // Fired once: another restart and more wake-ups do not fire it again; a late reply does not un-miss it.
    await t.restart();
    await api(b).post('/api/messages', { recipient_id: a.id, body: 'sorry, late', reply_to_id: asked.id });
    wakeWorker(t);
    await eventually(
      t,
      async () =>
        (await t.sql("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'deadline' AND queue = ? AND status = 'delivered'", asked.id))[0]!.n ==
        1,
      'the deadline settled',
    );
    assert.equal((await eventsOf(t, a.id, 'deadline.missed')).length, 1);
    assert.equal((await status(a, asked.id)).deadline?.state, 'missed');
    assert.equal((await status(a, other.id)).deadline?.state, 'pending', 'a reply meets only the deadlines of its own thread');
    const digest = (await api(a).get('/api/inbox/digest')).body;
    const peer = digest.peers.find((p: { peer_id: string }) => p.peer_id === b.id);
    assert.ok(peer.flags.includes('deadline_missed'), 'the sender’s digest flags the missed deadline');
    assert.deepEqual(
      peer.threads
        .find((th: { thread_id: string }) => th.thread_id === asked.thread_id)
        .your_deadlines.map((d: { message_id: string; state: string }) => [d.message_id, d.state]),
      [[asked.id, 'missed']],
    );
  });
});
