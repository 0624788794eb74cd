/**
 * `npm run bench`: loopback benchmarks, each figure reported against a ceiling measured in the same
 * run. Prints a table and writes bench/results/latest.json. `--smoke` runs a seconds-long version
 * (bench/results/smoke.json); `--only=send,peer` runs the named sections (with the ceiling).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { generateSigningKeyPair, signMessage } from '../src/crypto/index.js';
import { verifyMessageSignatureNode as serverVerify } from '../src/crypto/node-verify.js';
import { postgresUnavailableReason, startPostgresCluster } from '../test/helpers/postgres.js';
import { endToEnd } from './latency.js';
import { crossServer } from './federation.js';
import { load, loadSpread, root, rssMiB, seed, startAmtp, startProcess, stop, type Figure, type Proc, type Seeded } from './lib.js';
import { RAW_SQLITE, rawSqliteInserts } from './raw-sqlite.js';
import { signedSends, type PreparedSend } from './signed.js';
import { streamMemory } from './streams.js';
import { curvePoint, formatCurve, formatTargets, NAMES, ratio, targets, type CurvePoint } from './targets.js';

const smoke = process.argv.includes('--smoke');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const DURATION = smoke ? 1 : 8;
/** Stored messages at each point of the cost curve, on both backends. */
const CURVE = smoke ? [1_000, 2_000, 5_000] : [10_000, 100_000, 1_000_000];
const [SMALL, BIG] = [CURVE[0]!, CURVE.at(-1)!];
const SENDERS = 128;
const E2E = smoke ? { rate: 200, seconds: 1, pairs: 8 } : { rate: 1000, seconds: 5, pairs: 100 };
const STREAMS = smoke ? 100 : 1000;

const figures: Figure[] = [];
const curve: CurvePoint[] = [];
/** RSS of the send and inbox servers just before they stop. */
const rss: { server: string; mib: number }[] = [];
const extras: Record<string, number | string> = {};
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'amtp-bench-'));
  dirs.push(d);
  return d;
};
const wanted = (section: string) => !only || only.includes(section);
const record = (figure: Figure) => (figures.push(figure), figure);

async function stopMeasured(server: Proc, name: string) {
  rss.push({ server: name, mib: Math.round(rssMiB(server.child.pid!)) });
  await stop(server.child);
}

/** The cost curve's data: `stored` messages over 1,000 agents, 50 of them unread for the reader; and how long seeding took. */
function seedCurve(target: string, stored: number): { seeded: Seeded; seconds: number } {
  const started = performance.now();
  const seeded = seed(target, 1000, stored, 50);
  return { seeded, seconds: (performance.now() - started) / 1000 };
}

const sendOpts = (url: string, seeded: Seeded, connections = 64) => ({
  url,
  duration: DURATION,
  connections,
  requests: [
    {
      method: 'POST' as const,
      path: '/api/messages',
      setupRequest: (req: any) => {
        const i = Math.floor(Math.random() * seeded.keys.length);
        return {
          ...req,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${seeded.keys[i]}` },
          body: JSON.stringify({ recipient_id: seeded.ids[(i + 1) % seeded.ids.length], subject: 'bench', body: 'x'.repeat(200) }),
        };
      },
    },
  ],
});

const inboxOpts = (url: string, seeded: Seeded, connections = 16) => ({
  url: `${url}/api/inbox?unread_only=true&limit=50`,
  duration: DURATION,
  connections,
  headers: { authorization: `Bearer ${seeded.readerKey}` },
});

/** Sends from a prepared list; past its end (a faster server than expected), signs on the fly. */
function preparedOpts(url: string, prepared: PreparedSend[], more: () => PreparedSend[]) {
  let next = 0;
  return {
    url,
    duration: DURATION,
    connections: 64,
    requests: [
      {
        method: 'POST' as const,
        path: '/api/messages',
        setupRequest: (req: any) => {
          if (next >= prepared.length) prepared.push(...more());
          const p = prepared[next++]!;
          return { ...req, headers: { 'content-type': 'application/json', authorization: p.authorization }, body: p.body };
        },
      },
    ],
  };
}

/** One core's rate of the ed25519 verification the server runs, over a message of send size. */
function verifyRate(): number {
  const keys = generateSigningKeyPair();
  const fields = { sender_id: 'a2a_x', recipient_id: 'a2a_y', scope: 'message', subject: 'bench', body: 'x'.repeat(200), client_id: 'c' };
  const sig = signMessage(fields, keys.secretKey);
  const signed = { ...fields, sig_nonce: sig.sig_nonce, signed_at: sig.signed_at };
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < (smoke ? 300 : 2000)) {
    if (!serverVerify(signed, sig.ed25519_signature, keys.publicKey)) throw new Error('verify failed');
    n++;
  }
  return n / ((performance.now() - started) / 1000);
}

async function sqliteSections() {
  if (wanted('send')) {
    figures.push(rawSqliteInserts(tmp(), DURATION));
    const dir = tmp();
    const seeded = seed(dir, SENDERS, 0, 0);
    const server = await startAmtp(dir);
    figures.push(await load(NAMES.send, sendOpts(server.url, seeded)));
    await stopMeasured(server, 'send');
  }
  if (wanted('signed')) {
    extras.ed25519_verify_per_s_one_core = Math.round(verifyRate());
    figures.push({ name: NAMES.verify, rps: extras.ed25519_verify_per_s_one_core, p50: 0, p99: 0 });
    for (const sealed of [false, true]) {
      const dir = tmp();
      const seeded = seed(dir, SENDERS, 0, 0, true);
      const server = await startAmtp(dir);
      const prepared = signedSends(seeded, smoke ? 2_000 : 40_000, { sealed });
      figures.push(
        await load(
          sealed ? 'send, sealed + signed, durable' : NAMES.signed,
          preparedOpts(server.url, prepared, () => signedSends(seeded, 5_000, { sealed })),
        ),
      );
      await stop(server.child);
    }
  }
  if (wanted('inbox')) {
    // The cost curve on SQLite: the inbox page on the seeded store, then sends into it.
    for (const stored of CURVE) {
      const dir = tmp();
      const { seeded, seconds } = seedCurve(dir, stored);
      const server = await startAmtp(dir);
      const n = stored.toLocaleString('en');
      const inbox = record(await load(NAMES.inbox(stored), inboxOpts(server.url, seeded)));
      record(await load(`inbox, 50 unread of ${n}, one client`, inboxOpts(server.url, seeded, 1)));
      const send = record(await load(`${NAMES.send}, ${n} stored`, sendOpts(server.url, seeded)));
      curve.push(curvePoint('SQLite', stored, seconds, send, inbox));
      await stopMeasured(server, `inbox, ${n} stored`);
    }
  }
  if (wanted('latency')) {
    const dir = tmp();
    const seeded = seed(dir, E2E.pairs + 1, 0, 0);
    // At the target rate, and at a quarter of it (the latency of a server that is not saturated).
    for (const rate of [E2E.rate, E2E.rate / 4]) {
      const server = await startAmtp(dir, {
        AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true',
        AMTP_WEBHOOK_ALLOW_HTTP: 'true',
        AMTP_WEBHOOK_CONCURRENCY: '32',
      });
      figures.push(...(await endToEnd(server.url, seeded, { ...E2E, rate })));
      await stop(server.child);
    }
  }
  if (wanted('federation')) {
    // Two server processes; a fixed rate well below one server's ceiling (each relay is three commits across two servers).
    figures.push(...(await crossServer({ rate: smoke ? 50 : 100, seconds: E2E.seconds, pairs: smoke ? 4 : 16 })));
  }
  if (wanted('memory')) {
    const dir = tmp();
    const seeded = seed(dir, STREAMS, 0, 0);
    const server = await startAmtp(dir);
    const rss = await streamMemory(server.url, server.child.pid!, seeded, STREAMS);
    Object.assign(extras, {
      rss_mib_idle: Math.round(rss.before),
      rss_mib_with_streams: Math.round(rss.after),
      sse_streams_open: rss.open,
    });
    figures.push({
      name: `memory: RSS with ${rss.open.toLocaleString('en')} open SSE streams`,
      rps: 0,
      p50: 0,
      p99: 0,
      note: `${Math.round(rss.after)} MiB (idle ${Math.round(rss.before)} MiB)`,
    });
    await stop(server.child);
  }
}

async function peerSection() {
  const peer = await startProcess(['bench/a2a-peer.ts']);
  let n = 0;
  figures.push(
    await load('peer: @a2a-js/sdk SendMessage, in-memory tasks', {
      url: peer.url,
      duration: DURATION,
      connections: 64,
      requests: [
        {
          method: 'POST',
          path: '/a2a/jsonrpc',
          setupRequest: (req: any) => ({
            ...req,
            headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
            body: JSON.stringify({
              jsonrpc: '2.0',
              id: ++n,
              method: 'SendMessage',
              params: { message: { messageId: `m${n}`, role: 'ROLE_USER', parts: [{ text: 'x'.repeat(200) }] } },
            }),
          }),
        },
      ],
    }),
  );
  await stop(peer.child);
  figures.push(await a2aIntoMailbox());
}

/** The same SendMessage (200 characters of text), into AMTP mailboxes through the A2A bridge: consent-checked and durable before the answer. */
async function a2aIntoMailbox(): Promise<Figure> {
  const dir = tmp();
  const seeded = seed(dir, SENDERS, 0, 0);
  const server = await startAmtp(dir);
  let n = 0;
  try {
    return await load('A2A SendMessage into a mailbox, durable', {
      url: server.url,
      duration: DURATION,
      connections: 64,
      requests: [
        {
          method: 'POST',
          setupRequest: (req: any) => {
            const i = ++n % seeded.keys.length;
            return {
              ...req,
              // Agent i may write to agent i + 1 (the seed connects them), whose endpoint is /a2a/agents/bench-<i + 1>.
              path: `/a2a/agents/bench-${(i + 1) % seeded.keys.length}`,
              headers: { 'content-type': 'application/json', 'a2a-version': '1.0', authorization: `Bearer ${seeded.keys[i]}` },
              body: JSON.stringify({
                jsonrpc: '2.0',
                id: n,
                method: 'SendMessage',
                params: { message: { messageId: `m${n}`, role: 'ROLE_USER', parts: [{ text: 'x'.repeat(200) }] } },
              }),
            };
          },
        },
      ],
    });
  } finally {
    await stop(server.child);
  }
}

async function postgresSections() {
  const unavailable = postgresUnavailableReason();
  if (unavailable) {
    console.warn(`PostgreSQL figures skipped: ${unavailable}`);
    return;
  }
  const cluster = await startPostgresCluster({ durable: true });
  try {
    // The cost curve on PostgreSQL, one database per point; two instances on the smallest.
    for (const stored of CURVE) {
      const url = await createDatabase(cluster.url, `amtp_bench_${stored}`);
      const { seeded, seconds } = seedCurve(url, stored);
      const two = stored === SMALL;
      const servers = two ? [await startAmtp(url), await startAmtp(url)] : [await startAmtp(url)];
      const urls = servers.map((s) => s.url);
      const at = two ? '' : `, ${stored.toLocaleString('en')} stored`;
      const inbox = record(await load(NAMES.pgInbox(1) + at, inboxOpts(urls[0]!, seeded)));
      if (two) record(await loadSpread(NAMES.pgInbox(2), urls, (u) => inboxOpts(u, seeded, 8)));
      const send = record(await load(NAMES.pgSend(1) + at, sendOpts(urls[0]!, seeded)));
      if (two) record(await loadSpread(NAMES.pgSend(2), urls, (u) => sendOpts(u, seeded, 32)));
      curve.push(curvePoint('PostgreSQL', stored, seconds, send, inbox));
      for (const s of servers) await stop(s.child);
    }
  } finally {
    cluster.stop();
  }
}

/** A new database in the cluster; its URL. */
async function createDatabase(clusterUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return clusterUrl.replace(/\/postgres$/, `/${name}`);
}

async function main() {
  const started = Date.now();
  try {
    const ceiling = await startProcess(['bench/ceiling.ts']);
    figures.push(
      await load(NAMES.ceiling, {
        url: `${ceiling.url}/api/messages`,
        duration: DURATION,
        connections: 64,
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      }),
    );
    await stop(ceiling.child);
    await sqliteSections();
    if (wanted('peer')) await peerSection();
    if (wanted('postgres')) await postgresSections();
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  report((Date.now() - started) / 1000);
}

function report(seconds: number) {
  const ceiling = figures[0]!.rps;
  const by = (name: string) => figures.find((f) => f.name === name);
  const peer = by('peer: @a2a-js/sdk SendMessage, in-memory tasks');
  const ratios = {
    send_vs_ceiling: ratio(by(NAMES.send), figures[0]),
    signed_vs_verify_rate: ratio(by(NAMES.signed), by(NAMES.verify)),
    sealed_vs_verify_rate: ratio(by('send, sealed + signed, durable'), by(NAMES.verify)),
    inbox_p99_big_vs_small: ratio(by(NAMES.inbox(BIG)), by(NAMES.inbox(SMALL)), 'p99'),
    send_vs_peer: ratio(by(NAMES.send), peer),
    a2a_into_mailbox_vs_peer: ratio(by('A2A SendMessage into a mailbox, durable'), peer),
    postgres_send_2_vs_1: ratio(by(NAMES.pgSend(2)), by(NAMES.pgSend(1))),
  };
  const judged = targets({ figures, small: SMALL, big: BIG, e2eRate: E2E.rate, rssMiB: rss.map((r) => r.mib) });
  const lines = figures.map((f) => {
    const rate = f.rps ? `${f.rps.toFixed(0).padStart(8)} req/s` : ' '.repeat(14);
    const lat = f.p99 ? `p50 ${String(f.p50).padStart(5)} ms   p99 ${String(f.p99).padStart(5)} ms` : ' '.repeat(31);
    const share =
      f.rps && f.name !== NAMES.verify && f.name !== RAW_SQLITE
        ? `${((f.rps / ceiling) * 100).toFixed(1).padStart(5)}% of ceiling`
        : ' '.repeat(18);
    return `${f.name.padEnd(60)} ${rate}   ${lat}   ${share}   ${f.note ?? ''}`;
  });
  console.log(
    `\nAMTP benchmarks (${smoke ? 'smoke' : 'full'}; ${cpus().length} cores ${cpus()[0]?.model ?? ''}; ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; ${seconds.toFixed(0)} s)`,
  );
  console.log(lines.join('\n'));
  console.log(
    Object.entries(ratios)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${v!.toFixed(2)}`)
      .join('   '),
  );
  if (curve.length) console.log(formatCurve(curve));
  if (rss.length) console.log(`\nRSS after the bench: ${rss.map((r) => `${r.server} ${r.mib} MiB`).join(' · ')}`);
  console.log(formatTargets(judged, smoke));
  const results = {
    at: new Date().toISOString(),
    smoke,
    duration_s: DURATION,
    machine: { cores: cpus().length, model: cpus()[0]?.model, node: process.version },
    figures,
    ratios,
    targets: judged,
    cost_curve: curve,
    rss_after_bench_mib: rss,
    extras,
  };
  writeFileSync(join(root, `bench/results/${smoke ? 'smoke' : 'latest'}.json`), JSON.stringify(results, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
