/**
 * `npm run bench`: loopback benchmarks, each figure reported against a ceiling measured in the same
 * run. Prints a table and writes bench/results/latest.json. `--smoke` runs a seconds-long version.
 */
import autocannon from 'autocannon';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const smoke = process.argv.includes('--smoke');
const DURATION = smoke ? 1 : 10;
const CONNECTIONS = 64;
const BIG = smoke ? 20_000 : 1_000_000;
const root = new URL('..', import.meta.url).pathname;
const tsx = ['--import', 'tsx'];

interface Figure {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  note?: string;
}

function startProcess(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...tsx, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

async function load(name: string, opts: autocannon.Options, note?: string): Promise<Figure> {
  const result = await autocannon({ duration: DURATION, connections: CONNECTIONS, ...opts });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${name}: ${bad} failed requests (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})`);
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, note };
}

function seed(dataDir: string, agents: number, messages: number, unread: number) {
  const out = execFileSync(process.execPath, [...tsx, 'bench/seed.ts', dataDir, String(agents), String(messages), String(unread)], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out) as { readerKey: string; keys: string[]; ids: string[] };
}

const serverEnv = (dataDir: string) => ({
  AMTP_DATA_DIR: dataDir,
  AMTP_PORT: '0',
  AMTP_LOG_LEVEL: 'warn',
  AMTP_RATE_SEND_PER_MINUTE: '0',
  AMTP_RATE_PAIR_PER_MINUTE: '0',
});

async function main() {
  const figures: Figure[] = [];
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'amtp-bench-'));
    dirs.push(d);
    return d;
  };
  try {
    // 1. Ceiling.
    const ceiling = await startProcess(['bench/ceiling.ts']);
    figures.push(await load('ceiling: trivial 202', { url: `${ceiling.url}/api/messages`, method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }));
    await stop(ceiling.child);

    // 2. Send, unsigned, durable (fsync per group commit).
    const sendDir = tmp();
    const agents = seed(sendDir, 128, 0, 0);
    const server = await startProcess(['src/cli/main.ts', 'serve'], serverEnv(sendDir));
    figures.push(
      await load('send, unsigned, durable', {
        url: server.url,
        requests: [
          {
            method: 'POST',
            path: '/api/messages',
            setupRequest: (req) => {
              const i = Math.floor(Math.random() * agents.keys.length);
              return {
                ...req,
                headers: { 'content-type': 'application/json', authorization: `Bearer ${agents.keys[i]}` },
                body: JSON.stringify({ recipient_id: agents.ids[(i + 1) % agents.ids.length], subject: 'bench', body: 'x'.repeat(200) }),
              };
            },
          },
        ],
      }),
    );
    await stop(server.child);

    // 5. Inbox fetch of 50 unread, with 10k and with BIG stored messages.
    for (const total of [10_000, BIG]) {
      const dir = tmp();
      const seeded = seed(dir, 1000, total, 50);
      const s = await startProcess(['src/cli/main.ts', 'serve'], serverEnv(dir));
      figures.push(
        await load(`inbox, 50 unread of ${total.toLocaleString('en')} stored`, {
          url: `${s.url}/api/inbox?unread_only=true&limit=50`,
          connections: 16,
          headers: { authorization: `Bearer ${seeded.readerKey}` },
        }),
      );
      await stop(s.child);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }

  const ceiling = figures[0]!.rps;
  const [small, big] = [figures[2]!, figures[3]!];
  const ratios = {
    send_vs_ceiling: figures[1]!.rps / ceiling,
    inbox_p99_big_vs_small: big.p99 / Math.max(small.p99, 1),
  };
  const table = figures.map((f) => `${f.name.padEnd(40)} ${f.rps.toFixed(0).padStart(8)} req/s   p50 ${String(f.p50).padStart(4)} ms   p99 ${String(f.p99).padStart(4)} ms   ${((f.rps / ceiling) * 100).toFixed(0).padStart(4)}% of ceiling`);
  console.log(`\nAMTP benchmarks (${smoke ? 'smoke' : 'full'}; ${cpus().length} cores ${cpus()[0]?.model ?? ''}; ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version})`);
  console.log(table.join('\n'));
  console.log(`send / ceiling: ${(ratios.send_vs_ceiling * 100).toFixed(1)}%   inbox p99 ${BIG.toLocaleString('en')} / 10k: ${ratios.inbox_p99_big_vs_small.toFixed(2)}`);
  const results = { at: new Date().toISOString(), smoke, duration_s: DURATION, machine: { cores: cpus().length, model: cpus()[0]?.model, node: process.version }, figures, ratios };
  writeFileSync(join(root, `bench/results/${smoke ? 'smoke' : 'latest'}.json`), JSON.stringify(results, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
