/** The notifier alone: wake-ups, the `wait` filter and what always wakes, the waiting count, and the broadcast to other instances. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Broadcast, Wakeup } from '../store/types.js';
import { CREDENTIALS_REVOKED, endSessions, Notifier } from './notifier.js';

const A = 'a2a_a';
const B = 'a2a_b';
const mail = (agent_id = A): Wakeup => ({ type: 'message.received', agent_id });
const isMail = (event: Wakeup) => event.type === 'message.received';

/** A broadcast whose other side the test plays: `sent` are this instance's, `receive` delivers another's. */
function fakeBroadcast() {
  const sent: Wakeup[] = [];
  let deliver: ((wakeup: Wakeup | null) => void) | undefined;
  let stopped = false;
  const broadcast: Broadcast = {
    send: (wakeup) => void sent.push(wakeup),
    listen: (on) => ((deliver = on), () => void (stopped = true)),
  };
  return { broadcast, sent, receive: (wakeup: Wakeup | null) => deliver!(wakeup), stopped: () => stopped };
}

describe('Notifier', () => {
  test("subscribers get their own agent's events; subscribeAll gets every agent's; unsubscribing stops both", () => {
    const n = new Notifier();
    const mine: string[] = [];
    const all: string[] = [];
    const off = n.subscribe(A, (e) => mine.push(e.agent_id));
    const offAll = n.subscribeAll((e) => all.push(e.agent_id));
    n.publish(mail(A));
    n.publish(mail(B));
    off();
    offAll();
    n.publish(mail(A));
    assert.deepEqual(mine, [A]);
    assert.deepEqual(all, [A, B]);
    assert.equal(n.listening(A), 0);
  });

  test('a listener that throws is reported, and the others are still woken', () => {
    const errors: unknown[] = [];
    const n = new Notifier(undefined, (e) => errors.push(e));
    const woken: string[] = [];
    n.subscribe(A, () => {
      throw new Error('boom');
    });
    n.subscribe(A, (e) => woken.push(e.type));
    n.publish(mail());
    assert.deepEqual(woken, ['message.received']);
    assert.equal((errors[0] as Error).message, 'boom');
  });

  test('wait resolves on the first event its filter accepts, and ignores the others', async () => {
    const n = new Notifier();
    const waiting = n.wait(A, 10_000, undefined, isMail);
    n.publish({ type: 'contact_request.approved', agent_id: A });
    n.publish(mail(B));
    assert.equal(n.waiting(A), 1, 'still waiting: neither event was its mail');
    n.publish(mail(A));
    assert.deepEqual(await waiting, mail(A));
    assert.equal(n.waiting(A), 0);
  });

  for (const type of ['shutdown', 'resync', CREDENTIALS_REVOKED]) {
    test(`"${type}" ends a wait whatever its filter`, async () => {
      const n = new Notifier();
      const waiting = n.wait(A, 10_000, undefined, () => false);
      n.publish({ type, agent_id: A });
      assert.equal((await waiting)?.type, type);
    });
  }

  test('endSessions publishes the revocation with its reason', async () => {
    const n = new Notifier();
    const waiting = n.wait(A, 10_000, undefined, isMail);
    endSessions({ notifier: n }, A, 'api_key_rotated');
    assert.deepEqual(await waiting, { type: CREDENTIALS_REVOKED, agent_id: A, data: { reason: 'api_key_rotated' } });
  });

  test('wait resolves to null after its time, on abort, and at once when already aborted or closed', async () => {
    const n = new Notifier();
    assert.equal(await n.wait(A, 1), null);
    const controller = new AbortController();
    const waiting = n.wait(A, 10_000, controller.signal);
    controller.abort();
    assert.equal(await waiting, null);
    assert.equal(await n.wait(A, 10_000, controller.signal), null);
    assert.equal(n.waiting(), 0);
    n.close();
    assert.equal(await n.wait(A, 10_000), null);
  });

  test('waiting counts pending waits per agent and in all, not streams', async () => {
    const n = new Notifier();
    n.subscribe(A, () => undefined);
    assert.equal(n.waiting(A), 0);
    assert.equal(n.listening(A), 1);
    const waits = [n.wait(A, 10_000, undefined, isMail), n.wait(A, 10_000, undefined, isMail), n.wait(B, 10_000, undefined, isMail)];
    assert.deepEqual([n.waiting(A), n.waiting(B), n.waiting()], [2, 1, 3]);
    assert.equal(n.listening(A), 3);
    n.publish(mail(A));
    assert.deepEqual([n.waiting(A), n.waiting(B), n.waiting()], [0, 1, 1]);
    n.close();
    assert.deepEqual(await Promise.all(waits), [mail(A), mail(A), { type: 'shutdown', agent_id: B }]);
    assert.equal(n.waiting(), 0);
  });

  test('close releases every waiter and subscriber with "shutdown"', async () => {
    const n = new Notifier();
    const seen: string[] = [];
    n.subscribe(A, (e) => seen.push(e.type));
    const waiting = n.wait(B, 10_000, undefined, isMail);
    n.close();
    assert.deepEqual(seen, ['shutdown']);
    assert.deepEqual(await waiting, { type: 'shutdown', agent_id: B });
  });

  test("with a broadcast: own events go out once, other instances' events wake local waiters without going back out", async () => {
    const { broadcast, sent, receive, stopped } = fakeBroadcast();
    const n = new Notifier(broadcast);
    const local: Wakeup[] = [];
    n.subscribe(A, (e) => local.push(e));
    n.publish(mail(A));
    assert.deepEqual(sent, [mail(A)]);
    const waiting = n.wait(A, 10_000, undefined, isMail);
    receive(mail(A));
    assert.deepEqual(await waiting, mail(A));
    assert.deepEqual(local, [mail(A), mail(A)]);
    assert.equal(sent.length, 1, 'a received wake-up is not sent again');
    n.close();
    assert.equal(stopped(), true, 'close stops listening');
  });

  test('an interrupted broadcast wakes every waiter with "resync", whatever it waits for', async () => {
    const { broadcast, receive } = fakeBroadcast();
    const n = new Notifier(broadcast);
    const everyone: Wakeup[] = [];
    n.subscribeAll((e) => everyone.push(e));
    const waits = [n.wait(A, 10_000, undefined, isMail), n.wait(B, 10_000, undefined, () => false)];
    receive(null);
    assert.deepEqual(await Promise.all(waits), [
      { type: 'resync', agent_id: A },
      { type: 'resync', agent_id: B },
    ]);
    assert.deepEqual(everyone, [{ type: 'resync', agent_id: '' }]);
  });
});
