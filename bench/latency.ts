/**
 * End-to-end latency at a fixed send rate: the time from starting a send until the recipient's SSE
 * stream shows the event, and until the recipient's webhook receives it. Senders and recipients
 * follow the seeded ring (agent i writes to agent i+1).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { sseFrames } from '../src/client/client.js';
import { percentile, type Figure, type Seeded } from './lib.js';
import { NAMES } from './targets.js';

export async function endToEnd(url: string, seeded: Seeded, opts: { rate: number; seconds: number; pairs: number }): Promise<Figure[]> {
  const seen = { sse: new Map<string, number>(), hook: new Map<string, number>() };
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const id = JSON.parse(body).data?.message_id;
      if (id) seen.hook.set(id, performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const auth = (i: number) => ({ authorization: `Bearer ${seeded.keys[i]}`, 'content-type': 'application/json' });
  const streams = new AbortController();

  try {
    for (let i = 1; i <= opts.pairs; i++) {
      // PUT replaces a webhook left by an earlier run on the same data (new secret, same URL).
      const res = await fetch(`${url}/api/me/webhook`, {
        method: 'PUT',
        headers: auth(i),
        body: JSON.stringify({ url: hookUrl, events: ['message.received'] }),
      });
      if (res.status !== 200) throw new Error(`webhook: ${res.status} ${await res.text()}`);
      const stream = await fetch(`${url}/api/inbox/stream`, { headers: auth(i), signal: streams.signal });
      void (async () => {
        for await (const frame of sseFrames(stream.body!)) {
          const id = frame.event === 'message.received' ? JSON.parse(frame.data).data?.message_id : undefined;
          if (id) seen.sse.set(id, performance.now());
        }
      })().catch(() => undefined);
    }

    const started = new Map<string, number>();
    const sendLatency: number[] = [];
    const inFlight: Promise<void>[] = [];
    const total = opts.rate * opts.seconds;
    const t0 = performance.now();
    for (let k = 0; k < total; k++) {
      const due = t0 + (k * 1000) / opts.rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const i = k % opts.pairs;
      const begin = performance.now();
      inFlight.push(
        fetch(`${url}/api/messages`, {
          method: 'POST',
          headers: auth(i),
          body: JSON.stringify({ recipient_id: seeded.ids[i + 1], body: `e2e ${k}` }),
        }).then(async (res) => {
          const sent = (await res.json()) as { id?: string };
          if (res.status !== 202 || !sent.id) throw new Error(`send: ${res.status} ${JSON.stringify(sent)}`);
          started.set(sent.id, begin);
          sendLatency.push(performance.now() - begin);
        }),
      );
    }
    await Promise.all(inFlight);
    const achieved = total / ((performance.now() - t0) / 1000);
    const deadline = Date.now() + 30_000;
    while ((seen.sse.size < total || seen.hook.size < total) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const latencies = (arrivals: Map<string, number>) => [...started].map(([id, begin]) => (arrivals.get(id) ?? Infinity) - begin);
    const figure = (name: string, xs: number[], note: string): Figure => ({
      name,
      rps: achieved,
      p50: round(percentile(xs, 0.5)),
      p99: round(percentile(xs, 0.99)),
      note,
    });
    return [
      figure(
        NAMES.sse(opts.rate),
        latencies(seen.sse),
        `${seen.sse.size}/${total} events; send itself p99 ${round(percentile(sendLatency, 0.99))} ms`,
      ),
      figure(NAMES.webhook(opts.rate), latencies(seen.hook), `${seen.hook.size}/${total} deliveries`),
    ];
  } finally {
    streams.abort();
    receiver.closeAllConnections();
    receiver.close();
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
