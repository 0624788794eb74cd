/**
 * Faults on the way between two server processes: B answers 503 with Retry-After (honoured), and A is
 * killed with SIGKILL while it relays (nothing acknowledged is lost, nothing arrives twice). B is
 * reached through a proxy in this test process, which is B's public address and can answer for it.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { backend, register, type TestAgent } from '../helpers/server.js';
import { postgresSkip } from '../helpers/postgres.js';
import { waitFor } from '../helpers/receiver.js';
import { freePort, startNode, type Node } from './nodes.js';

const skip = backend === 'postgres' ? postgresSkip('federation faults') : undefined;

/** Forwards everything to `target`; `unavailable` relays to the inbox are answered 503 with Retry-After instead. */
async function startProxy(port: number, target: () => string) {
  const state = { unavailable: 0, retryAfter: '2', refused: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/federation/v1/inbox' && state.unavailable > 0) {
        state.unavailable -= 1;
        state.refused += 1;
        res.writeHead(503, { 'retry-after': state.retryAfter, 'content-type': 'application/json' });
        res.end('{"error":{"code":"storage_unavailable","message":"down for maintenance"}}');
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'connection'),
      ) as Record<string, string>;
      fetch(`${target()}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined })
        .then(async (r) => {
          res.writeHead(
            r.status,
            Object.fromEntries(
              [...(r.headers as unknown as Iterable<[string, string]>)].filter(
                ([k]) => k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'content-length',
              ),
            ),
          );
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { state, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

describe('federation faults', { skip }, () => {
  let A: Node;
  let B: Node;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  before(async () => {
    const publicPort = await freePort();
    [A, B] = await Promise.all([
      startNode({ AMTP_FEDERATION_RETRY_SCHEDULE: '0.2,0.2,0.2,0.5,0.5,1,1,1,1,1,1,1' }),
      startNode({}, { publicPort, postgres: backend === 'postgres' }),
    ]);
    proxy = await startProxy(publicPort, () => B.directUrl);
  });
  after(async () => {
    await Promise.all([A?.close(), B?.close(), proxy?.close()]);
  });

  async function pair(prefix: string): Promise<{ alice: TestAgent; bob: TestAgent }> {
    const [alice, bob] = await Promise.all([register(A.url, `${prefix}-alice`), register(B.directUrl, `${prefix}-bob`)]);
    assert.equal((await alice.api.post('/api/contact-requests', { agent_id: B.at(bob.name) })).status, 201);
    const incoming = await waitFor(
      async () => (await bob.api.get('/api/contact-requests?direction=incoming')).body.requests[0],
      'the request on B',
    );
    assert.equal((await bob.api.post(`/api/contact-requests/${incoming.id}/approve`, {})).status, 200);
    await waitFor(
      async () => (await alice.api.get('/api/peers')).body.peers.some((p: { state: string }) => p.state === 'mutual'),
      'the approval on A',
    );
    return { alice, bob };
  }

  test('B answers 503 with Retry-After: the next attempt waits that long, not the (shorter) retry schedule', async () => {
    const { alice, bob } = await pair('busy');
    proxy.state.unavailable = 1;
    const sent = await alice.api.post('/api/messages', { recipient_id: B.at(bob.name), body: 'after the maintenance' });
    assert.equal(sent.status, 202);
    // A's own database (A is on SQLite in both passes): the relay's next attempt is scheduled by Retry-After.
    const row = (await waitFor(
      () =>
        A.query(
          "SELECT attempts, last_status, not_before, updated_at FROM outbox WHERE kind = 'federation' AND status = 'pending' AND last_status = 503",
        )[0],
      'the 503 recorded on A',
    ))!;
    const waited = (Date.parse(row.not_before as string) - Date.parse(row.updated_at as string)) / 1000;
    assert.ok(waited >= 1.9 && waited <= 2.1, `waits ${waited} s, as Retry-After: 2 asks (the schedule says 0.2 ± 20 %)`);
    const got = await waitFor(async () => (await bob.api.get('/api/inbox')).body.messages[0], 'the message on B after the wait');
    assert.equal(got.id, sent.body.id);
    assert.equal(proxy.state.refused, 1);
  });

  test('kill -9 of A while it relays: every acknowledged message arrives once; none twice', async () => {
    const { alice, bob } = await pair('crash');
    const acked: string[] = [];
    let killed = false;
    const sendLoop = async (worker: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const res = await alice.api.post('/api/messages', {
            recipient_id: B.at(bob.name),
            body: `m ${worker}-${i}`,
            client_id: `c-${worker}-${i}`,
          });
          if (res.status === 202) acked.push(res.body.id);
        } catch {
          return; // A died under this request: it stays unacknowledged
        }
        if (acked.length >= 20 && !killed) {
          killed = true;
          await A.kill();
        }
      }
    };
    await Promise.all([sendLoop(1), sendLoop(2), sendLoop(3)]);
    await A.start();
    const received = (await waitFor(
      async () => {
        const got = (await bob.api.get('/api/inbox?limit=200')).body.messages as { id: string }[];
        const ids = new Set(got.map((m) => m.id));
        return acked.every((id) => ids.has(id)) && got;
      },
      'every acknowledged message on B',
      30_000,
    )) as { id: string }[];
    const ids = received.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, 'no message twice');
  });
});
