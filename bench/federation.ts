/**
 * Cross-server: two server processes on loopback (A and B, SQLite each), `pairs` agent pairs
 * alice-i@A ⇄ bob-i@B made mutual through the federation flow, then sends on A at a fixed rate.
 * Measures the relay throughput (messages in B's inboxes per second) and the latency from the start
 * of the send on A until the message shows in bob's SSE stream on B.
 */
import { performance } from 'node:perf_hooks';
import { sseFrames } from '../src/client/client.js';
import { startNode, type Node } from '../test/federation/nodes.js';
import { register, type TestAgent } from '../test/helpers/server.js';
import { waitFor } from '../test/helpers/receiver.js';
import { percentile, type Figure } from './lib.js';

export async function crossServer(opts: { rate: number; seconds: number; pairs: number }): Promise<Figure[]> {
  const env = {
    AMTP_RATE_SEND_PER_MINUTE: '0',
    AMTP_RATE_PAIR_PER_MINUTE: '0',
    AMTP_RATE_REQUESTS_PER_HOUR: '0',
    AMTP_RATE_REGISTER_PER_HOUR: '0',
    AMTP_WEBHOOK_CONCURRENCY: '32',
  };
  const [A, B] = await Promise.all([startNode(env), startNode(env)]);
  const streams = new AbortController();
  try {
    const pairs = await Promise.all(Array.from({ length: opts.pairs }, (_, i) => connectPair(A, B, i)));
    const seen = new Map<string, number>();
    for (const { bob } of pairs) {
      const stream = await fetch(`${B.url}/api/inbox/stream`, { headers: { authorization: `Bearer ${bob.key}` }, signal: streams.signal });
      void (async () => {
        for await (const frame of sseFrames(stream.body!)) {
          const id =
            frame.event === 'message.received'
              ? (JSON.parse(frame.data) as { data?: { message_id?: string } }).data?.message_id
              : undefined;
          if (id) seen.set(id, performance.now());
        }
      })().catch(() => undefined);
    }
    const started = new Map<string, number>();
    const total = opts.rate * opts.seconds;
    const inFlight: Promise<void>[] = [];
    const t0 = performance.now();
    for (let k = 0; k < total; k++) {
      const wait = t0 + (k * 1000) / opts.rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const { alice, bob } = pairs[k % pairs.length]!;
      const begin = performance.now();
      inFlight.push(
        alice.api.post('/api/messages', { recipient_id: B.at(bob.name), body: `x ${k}` }).then((res) => {
          if (res.status !== 202) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
          started.set(res.body.id, begin);
        }),
      );
    }
    await Promise.all(inFlight);
    await waitFor(() => [...started.keys()].every((id) => seen.has(id)), 'every message in B’s streams', 120_000);
    const latencies = [...started].map(([id, t]) => seen.get(id)! - t);
    if (process.env.DEBUG_FED) {
      console.log(
        A.query('SELECT MIN(created_at) a, MAX(created_at) b FROM messages'),
        B.query('SELECT MIN(created_at) a, MAX(created_at) b FROM messages'),
      );
      console.log(
        A.query("SELECT MIN(updated_at) a, MAX(updated_at) b, SUM(attempts) n, COUNT(*) c FROM outbox WHERE kind = 'federation'"),
      );
    }
    const elapsed = (Math.max(...seen.values()) - t0) / 1000;
    return [
      {
        name: `cross-server: send on A → SSE on B, ${opts.rate}/s offered, ${opts.pairs} pairs`,
        rps: Math.round(total / elapsed),
        p50: Math.round(percentile(latencies, 0.5) * 10) / 10,
        p99: Math.round(percentile(latencies, 0.99) * 10) / 10,
        note: `${total} messages relayed A → B in ${elapsed.toFixed(1)} s`,
      },
    ];
  } finally {
    streams.abort();
    await Promise.all([A.close(), B.close()]);
  }
}

async function connectPair(A: Node, B: Node, i: number): Promise<{ alice: TestAgent; bob: TestAgent }> {
  const [alice, bob] = await Promise.all([register(A.url, `bench-alice-${i}`), register(B.url, `bench-bob-${i}`)]);
  await alice.api.post('/api/contact-requests', { agent_id: B.at(bob.name) });
  const incoming = await waitFor(
    async () => (await bob.api.get('/api/contact-requests?direction=incoming')).body.requests[0],
    'the request on B',
  );
  await bob.api.post(`/api/contact-requests/${incoming.id}/approve`, {});
  await waitFor(
    async () => (await alice.api.get('/api/peers')).body.peers.some((p: { state: string }) => p.state === 'mutual'),
    'the approval on A',
  );
  return { alice, bob };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rate = Number(process.env.RATE ?? 200);
  const seconds = Number(process.env.SECONDS ?? 5);
  for (const f of await crossServer({ rate, seconds, pairs: Number(process.env.PAIRS ?? 8) })) {
    console.log(`${f.name}: ${f.rps} msg/s, p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms (${f.note})`);
  }
}
