/**
 * `npx tsx bench/cost.ts [rounds]`: the server's CPU time per request (user + system, all its threads,
 * from /proc), for the send and inbox scenarios of `npm run bench`, over a fixed number of requests.
 * Unlike throughput and latency, CPU time per request barely moves when other programs load the
 * machine, so it compares two builds fairly on a busy machine (run it in each checkout, alternating).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { cpuMs, load, seed, startAmtp, stop } from './lib.js';

async function measure(name: string, data: string, opts: (url: string) => autocannon.Options, amount: number): Promise<number> {
  const server = await startAmtp(data);
  try {
    await load(`${name} (warm-up)`, { ...opts(server.url), amount: Math.ceil(amount / 5) });
    const before = cpuMs(server.child.pid!);
    await load(name, { ...opts(server.url), amount });
    return ((cpuMs(server.child.pid!) - before) * 1000) / amount;
  } finally {
    await stop(server.child);
  }
}

const rounds = Number(process.argv[2] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'amtp-cost-'));
try {
  const inboxData = join(dir, 'inbox');
  const reader = seed(inboxData, 1000, 10_000, 50);
  const sendData = join(dir, 'send');
  const writers = seed(sendData, 128, 0, 0);
  const n = writers.keys.length;
  for (let r = 1; r <= rounds; r++) {
    const inbox = await measure(
      'inbox',
      inboxData,
      (url) => ({
        url: `${url}/api/inbox?unread_only=true&limit=50`,
        connections: 16,
        headers: { authorization: `Bearer ${reader.readerKey}` },
      }),
      5000,
    );
    const send = await measure(
      'send',
      sendData,
      (url) => ({
        url,
        connections: 64,
        requests: [
          {
            method: 'POST',
            path: '/api/messages',
            setupRequest: (req) => {
              const i = Math.floor(Math.random() * n);
              const body = JSON.stringify({ recipient_id: writers.ids[(i + 1) % n], body: 'x'.repeat(200) });
              return { ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${writers.keys[i]}` }, body };
            },
          },
        ],
      }),
      20_000,
    );
    console.log(`round ${r}: inbox page (50 of 10,000) ${inbox.toFixed(0)} µs CPU · durable send ${send.toFixed(0)} µs CPU`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
