/**
 * The soak benchmark (`npm run soak`): a constant mixed load for a configurable time against one
 * server process — sends among 50 agents (with idempotent resends), inbox polling with mark-read,
 * 30 SSE streams that reconnect with Last-Event-ID, 10 webhooks (half of the receivers fail 2 % of
 * requests), consent changes, API key rotations and MCP calls. Every 10 s it prints p50/p99 per
 * operation, the server's CPU, RSS, JS heap, open fds and database size; at the end the slope of each
 * after warm-up, the webhook delays of healthy and retried events, and the correctness counts: 5xx,
 * SSE gaps and repeats, webhook events lost, repeated or badly signed, idempotent resends answered
 * with another id. `runSoak` is also the 30-second smoke test (test/soak/soak-smoke.test.ts).
 *
 * Usage: npm run soak -- [--seconds 600] [--rps 300] [--backend sqlite|postgres] [--warmup 60] [--fail-rate 0.02]
 *        [--preload <messages already stored>] [--json file]
 * PostgreSQL: DATABASE_URL, or a throwaway cluster (test/helpers/postgres.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { sseFrames } from '../src/client/client.js';
import { cpuMs, percentile, seed, startAmtp, stop } from './lib.js';

export interface SoakOptions {
  backend: 'sqlite' | 'postgres';
  /** A data directory (SQLite) or a postgres:// URL of an empty database. */
  target: string;
  seconds: number;
  /** Target requests per second (sends, inbox polls, MCP calls; mark-read, consent and rotations come on top). */
  rps: number;
  intervalSeconds: number;
  /** Samples before this are left out of the slopes. */
  warmupSeconds: number;
  /** Fraction of requests the failing receivers answer with 500. */
  failRate: number;
  /** Messages already in the mailboxes before the load starts (a database that has been running a while). */
  preload?: number;
  /** Extra server environment (e.g. a short retry schedule for the smoke test). */
  env?: Record<string, string>;
  log: (line: string) => void;
}

interface OpStats {
  n: number;
  p50: number;
  p99: number;
}
export interface Sample {
  t: number;
  ops: Record<string, OpStats>;
  cpu: number;
  rssMiB: number;
  /** Of the RSS: file-backed pages (SQLite's memory map), which the kernel can reclaim. */
  rssFileMiB: number;
  heapMiB: number;
  /** read system calls per second (pages SQLite reads outside its memory map) and MiB/s written to disk. */
  readCalls: number;
  writeMiB: number;
  fds: number;
  dbMiB: number;
}
export interface Counts {
  requests: number;
  status5xx: number;
  unexpected: number;
  shed: number;
  sseEvents: number;
  sseGaps: number;
  sseRepeats: number;
  sseReconnects: number;
  webhookExpected: number;
  webhookDelivered: number;
  webhookMissing: number;
  webhookRepeats: number;
  webhookBadSignatures: number;
  webhookFailedAnswers: number;
  resends: number;
  resendMismatches: number;
  keyRotations: number;
  consentChanges: number;
}
export interface SoakResult {
  samples: Sample[];
  slopes: Record<string, number>;
  webhookDelay: { healthy: { n: number; p50: number; p99: number }; retried: { n: number; p50: number; p99: number } };
  counts: Counts;
}

const AGENTS = 50;
const STREAMS = 30; // agents 1..30
const WEBHOOKS = 10; // agents 31..40; 31..35 fail `failRate` of requests: every 1/failRate-th, the first included
const ROTATOR = 49; // rotates its key and blocks/unblocks agent 0
const SENDERS = 48; // agent i sends to i+1 (a mutual pair of the seeded ring)
const MAX_IN_FLIGHT = 256;

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const counts: Counts = {
    requests: 0,
    status5xx: 0,
    unexpected: 0,
    shed: 0,
    sseEvents: 0,
    sseGaps: 0,
    sseRepeats: 0,
    sseReconnects: 0,
    webhookExpected: 0,
    webhookDelivered: 0,
    webhookMissing: 0,
    webhookRepeats: 0,
    webhookBadSignatures: 0,
    webhookFailedAnswers: 0,
    resends: 0,
    resendMismatches: 0,
    keyRotations: 0,
    consentChanges: 0,
  };
  const seeded = seed(o.target, AGENTS, o.preload ?? 0, 0);
  const keys = [...seeded.keys];
  const ids = seeded.ids;
  const server = await startAmtp(o.target, {
    AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true',
    AMTP_WEBHOOK_ALLOW_HTTP: 'true',
    AMTP_MAX_STREAMS_PER_AGENT: '5',
    AMTP_LOG_LEVEL: 'error',
    ...o.env,
  });
  const receivers = await startReceivers(o, counts);
  const latencies = new Map<string, number[]>();
  let inFlight = 0;

  /** One request; its latency recorded under `op`. Answers the parsed body, or null on failure. */
  async function call(op: string, agent: number, method: string, path: string, body?: unknown, expect = [200, 201, 202]): Promise<unknown> {
    if (inFlight >= MAX_IN_FLIGHT) return void counts.shed++;
    inFlight++;
    counts.requests++;
    const started = performance.now();
    try {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${keys[agent]}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(op === 'mcp' ? { accept: 'application/json, text/event-stream' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      (latencies.get(op) ?? latencies.set(op, []).get(op)!).push(performance.now() - started);
      if (res.status >= 500) counts.status5xx++;
      else if (!expect.includes(res.status)) {
        counts.unexpected++;
        if (counts.unexpected <= 5) o.log(`unexpected ${res.status} on ${op}: ${text.slice(0, 200)}`);
      }
      return res.ok ? (JSON.parse(text) as unknown) : null;
    } catch (error) {
      counts.unexpected++;
      if (counts.unexpected <= 5) o.log(`${op} failed: ${(error as Error).message}`);
      return null;
    } finally {
      inFlight--;
    }
  }

  // Webhooks for agents 31..40 (message.received only: the expected count is the number of sends to them).
  const secrets = new Map<number, Webhook>();
  for (let w = 0; w < WEBHOOKS; w++) {
    const agent = STREAMS + 1 + w;
    const set = (await call('setup', agent, 'PUT', '/api/me/webhook', {
      url: `${receivers.url}/hook/${agent}`,
      events: ['message.received'],
    })) as { secret: string };
    secrets.set(agent, new Webhook(set.secret));
  }
  receivers.verify = (agent, body, headers) => {
    try {
      secrets.get(agent)!.verify(body, headers);
      return true;
    } catch {
      return false;
    }
  };
  const expected = new Map<number, number>();

  // SSE streams for agents 1..30, each reconnecting after 15–45 s with Last-Event-ID.
  const streams = Array.from({ length: STREAMS }, (_, i) => new StreamCheck(server.url, () => keys[i + 1]!, counts, o.log));
  await Promise.all(streams.map((s) => s.open()));
  const reconnects = setInterval(() => {
    for (const s of streams) if (Math.random() < 1 / 30) s.reconnect();
  }, 1000);

  const sent: string[][] = Array.from({ length: AGENTS }, () => []);
  const sentIds = new Map<string, string>();
  let clientSeq = 0;
  const send = async () => {
    const from = Math.floor(Math.random() * SENDERS);
    const resend = sent[from]!.length > 0 && Math.random() < 0.03;
    const clientId = resend ? sent[from]![Math.floor(Math.random() * sent[from]!.length)]! : `c${++clientSeq}`;
    const out = (await call('send', from, 'POST', '/api/messages', {
      recipient_id: ids[from + 1],
      body: `soak ${clientId}`,
      client_id: clientId,
    })) as { id: string } | null;
    if (!out) return;
    if (resend) {
      counts.resends++;
      if (sentIds.get(`${from}/${clientId}`) !== out.id) counts.resendMismatches++;
      return;
    }
    sentIds.set(`${from}/${clientId}`, out.id);
    sent[from]!.push(clientId);
    if (sent[from]!.length > 50) sent[from]!.shift();
    if (from + 1 > STREAMS && from + 1 <= STREAMS + WEBHOOKS) expected.set(from + 1, (expected.get(from + 1) ?? 0) + 1);
  };
  const poll = async () => {
    const agent = 1 + Math.floor(Math.random() * SENDERS);
    const inbox = (await call('inbox', agent, 'GET', '/api/inbox?unread_only=true&limit=20')) as { messages: unknown[] } | null;
    if (inbox?.messages.length) await call('read', agent, 'POST', '/api/inbox/read', {});
  };
  const mcp = () =>
    call('mcp', 1 + Math.floor(Math.random() * SENDERS), 'POST', '/mcp', {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'a2a_check_inbox', arguments: { limit: 5 } },
    });
  let blocked = false;
  const rotatorBusy = { v: false };
  const rotator = async (what: 'consent' | 'rotate') => {
    if (rotatorBusy.v) return;
    rotatorBusy.v = true;
    try {
      if (what === 'rotate') {
        const out = (await call('rotate', ROTATOR, 'POST', '/api/me/api-key/rotate')) as { api_key: string } | null;
        if (out) {
          keys[ROTATOR] = out.api_key;
          counts.keyRotations++;
        }
      } else {
        const ok = blocked
          ? await call('consent', ROTATOR, 'DELETE', `/api/blocks/${ids[0]}`)
          : await call('consent', ROTATOR, 'POST', '/api/blocks', { agent_id: ids[0] });
        if (ok) {
          blocked = !blocked;
          counts.consentChanges++;
        }
      }
    } finally {
      rotatorBusy.v = false;
    }
  };

  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const perTick = o.rps / 10;
  let carry = 0;
  const ticker = setInterval(() => {
    carry += perTick;
    for (; carry >= 1; carry--) {
      const r = Math.random();
      track(r < 0.5 ? send() : r < 0.9 ? poll() : mcp());
    }
  }, 100);
  const consent = setInterval(() => track(rotator('consent')), 1000);
  const rotate = setInterval(() => track(rotator('rotate')), 5000);

  // Every interval: per-operation percentiles and the server's resources.
  const samples: Sample[] = [];
  const started = Date.now();
  const proc = new ProcStats(server.child.pid!);
  const db = o.backend === 'postgres' ? new pg.Client({ connectionString: o.target }) : null;
  await db?.connect();
  o.log(header());
  while (Date.now() - started < o.seconds * 1000) {
    await sleep(Math.min(o.intervalSeconds * 1000, o.seconds * 1000 - (Date.now() - started)));
    const ops: Record<string, OpStats> = {};
    for (const [op, l] of latencies) if (op !== 'setup') ops[op] = { n: l.length, p50: percentile(l, 0.5), p99: percentile(l, 0.99) };
    latencies.clear();
    const sample: Sample = {
      t: Math.round((Date.now() - started) / 1000),
      ops,
      ...proc.sample(),
      heapMiB: await heapMiB(server.url),
      dbMiB: db
        ? Number((await db.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n) / 2 ** 20
        : sqliteMiB(o.target),
    };
    samples.push(sample);
    o.log(line(sample));
  }
  clearInterval(ticker);
  clearInterval(consent);
  clearInterval(rotate);
  clearInterval(reconnects);
  await Promise.all(pending);

  // Drain: the streams catch up (a final replay proves nothing was skipped), the webhooks' retries land.
  await Promise.all(streams.map((s) => s.finish()));
  counts.webhookExpected = [...expected.values()].reduce((a, b) => a + b, 0);
  const drainUntil = Date.now() + 120_000;
  while (receivers.delivered() < counts.webhookExpected && Date.now() < drainUntil) await sleep(200);
  counts.webhookDelivered = receivers.delivered();
  counts.webhookMissing = counts.webhookExpected - counts.webhookDelivered;
  await db?.end();
  await stop(server.child);
  await receivers.close();

  const after = samples.filter((s) => s.t > o.warmupSeconds);
  const slopes: Record<string, number> = {};
  for (const op of Object.keys(samples.at(-1)?.ops ?? {})) {
    slopes[`${op} p50 ms/min`] = slope(after, (s) => s.ops[op]?.p50);
    slopes[`${op} p99 ms/min`] = slope(after, (s) => s.ops[op]?.p99);
  }
  Object.assign(slopes, {
    'cpu points/min': slope(after, (s) => s.cpu),
    'rss MiB/min': slope(after, (s) => s.rssMiB),
    'rss anonymous MiB/min': slope(after, (s) => s.rssMiB - s.rssFileMiB),
    'heap MiB/min': slope(after, (s) => s.heapMiB),
    'fds /min': slope(after, (s) => s.fds),
    'db MiB/min': slope(after, (s) => s.dbMiB),
  });
  return { samples, slopes, webhookDelay: receivers.delays(), counts };
}

// ── SSE: every event exactly once across reconnects ──

class StreamCheck {
  private last = 0;
  private opened = false;
  private reopening?: Promise<void>;
  private controller?: AbortController;
  private pumping?: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly key: () => string,
    private readonly counts: Counts,
    private readonly log: (line: string) => void,
  ) {}

  /** Opens (or reopens after `last`); resolves once the server answered. */
  async open(): Promise<void> {
    const controller = (this.controller = new AbortController());
    const headers: Record<string, string> = { authorization: `Bearer ${this.key()}`, accept: 'text/event-stream' };
    // The first open starts after the newest event; every reopen resumes after the last one seen (0: from the start).
    if (this.opened) headers['last-event-id'] = String(this.last);
    this.opened = true;
    const res = await fetch(`${this.url}/api/inbox/stream`, { headers, signal: controller.signal });
    if (res.status !== 200) throw new Error(`stream answered ${res.status}`);
    this.pumping = this.pump(res.body!);
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const frame of sseFrames(body)) {
        if (!frame.data || frame.id === undefined) continue;
        const seq = Number(frame.id);
        this.counts.sseEvents++;
        if (seq <= this.last) this.counts.sseRepeats++;
        else {
          this.counts.sseGaps += seq - this.last - 1;
          this.last = seq;
        }
      }
    } catch {
      // aborted by a reconnect or at the end
    }
  }

  /** Drops the connection and resumes after the last event seen (one reconnect at a time). */
  reconnect(): void {
    if (this.reopening) return;
    this.counts.sseReconnects++;
    this.controller?.abort();
    this.reopening = (async () => {
      await this.pumping;
      await this.open();
    })()
      .catch((error: Error) => {
        this.counts.unexpected++;
        this.log(`stream reconnect failed: ${error.message}`);
      })
      .finally(() => (this.reopening = undefined));
  }

  /** After the load: waits for the live stream to go quiet, then replays from `last` — nothing may be left. */
  async finish(): Promise<void> {
    await this.reopening;
    let seen = -1;
    while (seen !== this.counts.sseEvents) {
      seen = this.counts.sseEvents;
      await sleep(1000);
    }
    this.controller?.abort();
    await this.pumping;
    await this.open();
    await sleep(1000);
    this.controller?.abort();
    await this.pumping;
  }
}

// ── webhook receivers: signatures, exactly once, delays ──

function startReceivers(o: SoakOptions, counts: Counts) {
  const accepted = new Map<string, number>();
  const failedOnce = new Set<string>();
  const requestsTo = new Map<number, number>();
  const healthy: number[] = [];
  const retried: number[] = [];
  const state = {
    url: '',
    verify: (_agent: number, _body: string, _headers: Record<string, string>) => true,
    delivered: () => accepted.size,
    delays: () => ({ healthy: summary(healthy), retried: summary(retried) }),
    close: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const agent = Number(/\/hook\/(\d+)/.exec(req.url ?? '')?.[1]);
      const id = req.headers['webhook-id'] as string;
      if (!state.verify(agent, body, req.headers as Record<string, string>)) counts.webhookBadSignatures++;
      // Deterministic failures, the first request included: a short run surely sees retries step aside.
      const nth = requestsTo.get(agent) ?? 0;
      requestsTo.set(agent, nth + 1);
      if (agent <= STREAMS + WEBHOOKS / 2 && o.failRate > 0 && nth % Math.round(1 / o.failRate) === 0) {
        counts.webhookFailedAnswers++;
        failedOnce.add(id);
        return res.writeHead(500).end();
      }
      if (accepted.has(id)) counts.webhookRepeats++;
      else {
        const delay = Date.now() - Date.parse((JSON.parse(body) as { timestamp: string }).timestamp);
        (failedOnce.has(id) ? retried : healthy).push(delay);
      }
      accepted.set(id, (accepted.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  return new Promise<typeof state>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve(state);
    }),
  );
}

// ── the server's resources ──

class ProcStats {
  private last: ReturnType<ProcStats['counters']>;
  constructor(private readonly pid: number) {
    this.last = this.counters();
  }
  private counters() {
    const io = readOptional(`/proc/${this.pid}/io`); // some kernels restrict it: the columns show "-" then
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1]);
    return {
      at: Date.now(),
      cpuMs: cpuMs(this.pid),
      readCalls: field('syscr'),
      writeBytes: field('write_bytes'),
    };
  }
  sample() {
    const now = this.counters();
    const seconds = (now.at - this.last.at) / 1000;
    const per = (key: 'cpuMs' | 'readCalls' | 'writeBytes') => (now[key] - this.last[key]) / seconds;
    const sample = { cpu: per('cpuMs') / 10, readCalls: per('readCalls'), writeMiB: per('writeBytes') / 2 ** 20 };
    this.last = now;
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;
    return { ...sample, rssMiB: kib('VmRSS'), rssFileMiB: kib('RssFile'), fds: readdirSync(`/proc/${this.pid}/fd`).length };
  }
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function heapMiB(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_used_bytes (\d+)/m.exec(text)?.[1]) / 2 ** 20;
}

function sqliteMiB(dir: string): number {
  return ['amtp.sqlite', 'amtp.sqlite-wal'].reduce((sum, f) => {
    try {
      return sum + statSync(join(dir, f)).size / 2 ** 20;
    } catch {
      return sum;
    }
  }, 0);
}

// ── figures ──

const OPS = ['send', 'inbox', 'read', 'mcp', 'consent', 'rotate'];
const f = (n: number | undefined, w = 6, d = 1) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d)).padStart(w);
const header = () =>
  `${'t s'.padStart(5)} ${OPS.map((op) => `${op} p50/p99 ms`.padStart(20)).join('')}${'cpu %'.padStart(7)}${'rss'.padStart(7)}${'file'.padStart(6)}${'heap'.padStart(7)}${'fds'.padStart(5)}${'db MiB'.padStart(8)}${'reads/s'.padStart(9)}${'wr MiB/s'.padStart(9)}`;
const line = (s: Sample) =>
  `${f(s.t, 5, 0)} ${OPS.map((op) => `${f(s.ops[op]?.p50, 9)}/${f(s.ops[op]?.p99, 9).trimStart().padEnd(9)} `).join('')}${f(s.cpu, 7, 0)}${f(s.rssMiB, 7, 0)}${f(s.rssFileMiB, 6, 0)}${f(s.heapMiB, 7, 0)}${f(s.fds, 5, 0)}${f(s.dbMiB, 8)}${f(s.readCalls, 9, 0)}${f(s.writeMiB, 9)}`;

/** Least-squares slope of `value` against time, per minute. */
export function slope(samples: Sample[], value: (s: Sample) => number | undefined): number {
  const points = samples
    .map((s) => [s.t / 60, value(s)] as const)
    .filter((p): p is readonly [number, number] => p[1] !== undefined && !Number.isNaN(p[1]));
  if (points.length < 2) return NaN;
  const mx = points.reduce((a, p) => a + p[0], 0) / points.length;
  const my = points.reduce((a, p) => a + p[1], 0) / points.length;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den === 0 ? NaN : num / den;
}

function summary(samples: number[]) {
  return { n: samples.length, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// ── npm run soak ──

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '600' },
      rps: { type: 'string', default: '300' },
      backend: { type: 'string', default: 'sqlite' },
      warmup: { type: 'string', default: '60' },
      'fail-rate': { type: 'string', default: '0.02' },
      preload: { type: 'string', default: '0' },
      json: { type: 'string' },
    },
  });
  const backend = values.backend === 'postgres' ? 'postgres' : 'sqlite';
  let cleanup: () => Promise<void> = async () => undefined;
  let target: string;
  if (backend === 'postgres') {
    if (process.env.DATABASE_URL) target = process.env.DATABASE_URL;
    else {
      const { startPostgresCluster } = await import('../test/helpers/postgres.js');
      const cluster = await startPostgresCluster({ durable: true });
      target = cluster.url;
      cleanup = async () => cluster.stop();
    }
  } else {
    target = mkdtempSync(join(tmpdir(), 'amtp-soak-'));
    cleanup = async () => rmSync(target, { recursive: true, force: true });
  }
  console.log(
    `soak: ${backend}, ${values.seconds} s at ${values.rps} requests/s (plus mark-read, consent, rotations), ${values.preload} messages preloaded, samples every 10 s`,
  );
  try {
    const result = await runSoak({
      backend,
      target,
      seconds: Number(values.seconds),
      rps: Number(values.rps),
      intervalSeconds: 10,
      warmupSeconds: Number(values.warmup),
      failRate: Number(values['fail-rate']),
      preload: Number(values.preload),
      log: (l) => console.log(l),
    });
    console.log(`\nslopes after ${values.warmup} s of warm-up:`);
    for (const [name, v] of Object.entries(result.slopes)) console.log(`  ${name.padEnd(22)} ${f(v, 9, 2)}`);
    const d = result.webhookDelay;
    console.log(`\nwebhook delay (event created → accepted), receivers failing ${Number(values['fail-rate']) * 100} %:`);
    console.log(`  healthy events: n=${d.healthy.n} p50 ${f(d.healthy.p50, 0, 0)} ms, p99 ${f(d.healthy.p99, 0, 0)} ms`);
    console.log(`  retried events: n=${d.retried.n} p50 ${f(d.retried.p50, 0, 0)} ms, p99 ${f(d.retried.p99, 0, 0)} ms`);
    console.log('\ncorrectness:');
    for (const [name, v] of Object.entries(result.counts)) console.log(`  ${name.padEnd(22)} ${v}`);
    if (values.json) writeFileSync(values.json, JSON.stringify({ backend, ...result }, null, 2));
  } finally {
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main();
