/**
 * Quiet hours (issue 18 §3) through REST, with the clock driven by the test across the 2026 US
 * spring-forward (America/New_York, 8 March 02:00 EST → 03:00 EDT): mail arriving in the window is
 * accepted (202) but held — no event, so no stream push and no webhook, not counted as new in the
 * digest — the sender sees held_until, and at the window's end the held mail is released in order.
 * The `urgent` scope and the per-peer exceptions pass through.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Message } from '../../src/protocol/schemas.js';
import { ManualClock } from '../helpers/clock.js';
import { connect, register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';
import { eventsOf, eventually } from './helpers.js';

const NIGHT = { time_zone: 'America/New_York', start: '22:00', end: '07:00' };

describe('quiet hours', () => {
  const clock = new ManualClock('2026-03-07T12:00:00Z');
  let t: TestServer;
  before(async () => {
    t = await startServer({}, { clock });
  });
  after(() => t.close());

  const pair = async (scopes?: string[]): Promise<[TestAgent, TestAgent]> => {
    const [a, b] = [await register(t.url), await register(t.url)];
    await connect(a, b, scopes);
    return [a, b];
  };
  const received = async (b: TestAgent) => (await eventsOf(t, b.id, 'message.received')).map((e) => e.message_id);

  test('the window follows the zone’s wall clock across the DST change (Temporal, no hand-written offsets)', async () => {
    const [, b] = await pair();
    clock.set('2026-03-07T11:30:00Z'); // 06:30 EST, Saturday
    const before = await b.api.put('/api/me/quiet-hours', NIGHT);
    assert.equal(before.status, 200, JSON.stringify(before.body));
    assert.equal(before.body.quiet_hours.held_until, '2026-03-07T12:00:00.000Z', '07:00 EST is 12:00 UTC');
    clock.set('2026-03-08T10:30:00Z'); // 06:30 EDT, Sunday, after the change
    assert.equal(
      (await b.api.get('/api/me/quiet-hours')).body.quiet_hours.held_until,
      '2026-03-08T11:00:00.000Z',
      '07:00 EDT is 11:00 UTC',
    );
    clock.set('2026-03-08T12:00:00Z'); // 08:00 EDT: outside
    assert.equal((await b.api.get('/api/me/quiet-hours')).body.quiet_hours.held_until, null);
    const bad = await b.api.put('/api/me/quiet-hours', { ...NIGHT, time_zone: 'Mars/Olympus_Mons' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /IANA/);
    assert.equal((await b.api.put('/api/me/quiet-hours', { ...NIGHT, end: '22:00' })).status, 400, 'an empty window is refused');
    assert.equal((await b.api.del('/api/me/quiet-hours')).body.quiet_hours, null);
  });

  test('mail held over the night of the change is accepted, not pushed nor counted, then released in order at 07:00 EDT', async () => {
    const [a, b] = await pair();
    assert.equal((await b.api.put('/api/me/quiet-hours', NIGHT)).status, 200);
    clock.set('2026-03-08T03:00:00Z'); // Saturday 22:00 EST: the window opens; it ends at 07:00 EDT, 8 hours later
    const ids: string[] = [];
    for (const body of ['first', 'second', 'third']) {
      const sent = await a.api.post('/api/messages', { recipient_id: b.id, body });
      assert.equal(sent.status, 202);
      ids.push(sent.body.id);
      clock.advance(60_000);
    }
    const status = (await a.api.get<Message>(`/api/messages/${ids[0]}`)).body;
    assert.equal(status.held_until, '2026-03-08T11:00:00.000Z', 'the sender sees held_until');
    assert.equal(status.status, 'queued');
    assert.deepEqual(await received(b), [], 'no event: nothing is pushed (stream, webhook)');
    const night = (await b.api.get('/api/inbox/digest')).body;
    assert.equal(night.unread_count, 0);
    assert.equal(night.held_count, 3);
    assert.deepEqual(night.peers, []);

    clock.set('2026-03-08T10:59:59Z');
    assert.deepEqual(
      await t.server.core.outbox.claim(10, 1),
      [],
      'one second before the end, no release is due (a real claim, by the clock)',
    );
    assert.deepEqual(await received(b), [], 'still held');
    clock.set('2026-03-08T11:00:00Z');
    const released = await eventually(t, async () => ((await received(b)).length === 3 ? received(b) : null), 'the release');
    assert.deepEqual(released, ids, 'released in the order they arrived');
    const morning = (await b.api.get('/api/inbox/digest')).body;
    assert.equal(morning.unread_count, 3);
    assert.equal(morning.held_count, 0);
    assert.deepEqual(morning.peers[0].threads.map((th: { latest: { snippet: string } }) => th.latest.snippet).sort(), [
      'first',
      'second',
      'third',
    ]);
  });

  test('an urgent scope the recipient granted, and its per-peer exceptions, pass through quiet hours', async () => {
    const [a, b] = await pair(['message', 'urgent']);
    const [c] = await pair();
    await connect(c, b);
    clock.set('2026-06-01T03:00:00Z'); // 23:00 EDT
    assert.equal((await b.api.put('/api/me/quiet-hours', { ...NIGHT, except: [c.name] })).body.quiet_hours.except[0], c.id);
    const normal = await a.api.post('/api/messages', { recipient_id: b.id, body: 'tomorrow is fine' });
    const urgent = await a.api.post('/api/messages', { recipient_id: b.id, body: 'the server is down', scope: 'urgent' });
    const excepted = await c.api.post('/api/messages', { recipient_id: b.id, body: 'family' });
    assert.equal((await a.api.get(`/api/messages/${normal.body.id}`)).body.held_until, '2026-06-01T11:00:00.000Z');
    assert.equal((await a.api.get(`/api/messages/${urgent.body.id}`)).body.held_until, null);
    assert.equal((await c.api.get(`/api/messages/${excepted.body.id}`)).body.held_until, null);
    assert.deepEqual(await received(b), [urgent.body.id, excepted.body.id]);
  });
});
