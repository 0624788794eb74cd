/** What every benchmark figure needs: server processes, seeding, load, percentiles, memory. */
import autocannon from 'autocannon';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const root = new URL('..', import.meta.url).pathname;
const tsx = ['--import', 'tsx'];

export interface Figure {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  note?: string;
}

export interface Seeded {
  readerKey: string;
  keys: string[];
  ids: string[];
  /** With --keys: each agent's ed25519 secret key and X25519 public key (base64url). */
  signing: string[];
  encryption: string[];
}

export interface Proc {
  child: ChildProcess;
  url: string;
}

/**
 * Starts `tsx <args>` and resolves with the first http://127.0.0.1:<port> it prints — on stdout (the
 * helper processes) or stderr (`amtp serve`'s banner; its stdout is JSON logs). stderr is passed on.
 */
export function startProcess(args: string[], env: Record<string, string> = {}): Promise<Proc> {
  const child = spawn(process.execPath, [...tsx, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pipe(process.stderr, { end: false });
  return new Promise((resolve, reject) => {
    let out = '';
    const watch = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** An AMTP server over a data directory or, with a postgres:// URL, a PostgreSQL database. */
export function startAmtp(target: string, env: Record<string, string> = {}, nodeFlags: string[] = []): Promise<Proc> {
  const where: Record<string, string> = /^postgres/.test(target) ? { DATABASE_URL: target } : { AMTP_DATA_DIR: target };
  return startProcess([...nodeFlags, 'src/cli/main.ts', 'serve'], {
    ...where,
    AMTP_PORT: '0',
    AMTP_LOG_LEVEL: 'warn',
    AMTP_RATE_SEND_PER_MINUTE: '0',
    AMTP_RATE_PAIR_PER_MINUTE: '0',
    ...env,
  });
}

export function seed(target: string, agents: number, messages: number, unread: number, withKeys = false): Seeded {
  const args = ['bench/seed.ts', target, String(agents), String(messages), String(unread), ...(withKeys ? ['--keys'] : [])];
  const out = execFileSync(process.execPath, [...tsx, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out) as Seeded;
}

/** autocannon with the run's defaults; any failed request fails the benchmark. */
export async function load(name: string, opts: autocannon.Options, note?: string): Promise<Figure> {
  // A timed figure starts warm: one unmeasured request per connection (lazy paths, each pooled
  // connection's prepared statements). Cold, a 1-s smoke figure once ended before its first answer.
  if (opts.amount === undefined) await autocannon({ ...opts, amount: opts.connections ?? 10 });
  const result = await autocannon(opts);
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0)
    throw new Error(`${name}: ${bad} failed requests (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})`);
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, note };
}

/** The same load split over several servers at once: summed throughput, worst p50/p99. */
export async function loadSpread(name: string, urls: string[], opts: (url: string) => autocannon.Options, note?: string): Promise<Figure> {
  const parts = await Promise.all(urls.map((url, i) => load(`${name} [${i}]`, opts(url))));
  return {
    name,
    rps: parts.reduce((sum, p) => sum + p.rps, 0),
    p50: Math.max(...parts.map((p) => p.p50)),
    p99: Math.max(...parts.map((p) => p.p99)),
    note,
  };
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** CPU time (user + system, every thread) a process has used, in ms, from /proc; 0 once it has exited. */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at USER_HZ = 100
  } catch {
    return 0;
  }
}

/** Resident set size of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) / 1024;
}
