/**
 * `npm run bench:profile -- send|inbox|latency [--postgres]`: runs one benchmark scenario against a
 * server started with --cpu-prof, then prints where each of its threads spent its time (self time per
 * function). With --postgres the server uses a throwaway durable cluster, and the run also samples
 * what PostgreSQL's backends were doing (pg_stat_activity) and the CPU split between the server
 * process and PostgreSQL's.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgresCluster } from '../test/helpers/postgres.js';
import { endToEnd } from './latency.js';
import { load, seed, startAmtp, stop } from './lib.js';
import { sampleActivity, type ActivitySampler } from './pg-activity.js';

const scenario = process.argv[2] ?? 'send';
const dir = mkdtempSync(join(tmpdir(), 'amtp-profile-'));
const profiles = join(dir, 'profiles');
const cluster = process.argv.includes('--postgres') ? await startPostgresCluster({ durable: true }) : null;
const target = cluster ? cluster.url : join(dir, 'data');
const seeded = scenario === 'inbox' ? seed(target, 1000, 10_000, 50) : seed(target, scenario === 'latency' ? 101 : 128, 0, 0);
const server = await startAmtp(
  target,
  scenario === 'latency' ? { AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true', AMTP_WEBHOOK_ALLOW_HTTP: 'true', AMTP_WEBHOOK_CONCURRENCY: '32' } : {},
  ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
);
let activity: ActivitySampler | undefined;
if (cluster) {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  activity = sampleActivity(client, server.child.pid!);
}
if (scenario === 'latency') console.log(await endToEnd(server.url, seeded, { rate: 1000, seconds: 5, pairs: 100 }));
else if (scenario === 'inbox') {
  console.log(
    await load('inbox', {
      url: `${server.url}/api/inbox?unread_only=true&limit=50`,
      duration: 8,
      connections: 16,
      headers: { authorization: `Bearer ${seeded.readerKey}` },
    }),
  );
} else {
  const n = seeded.keys.length;
  console.log(
    await load('send', {
      url: server.url,
      duration: 8,
      connections: 64,
      requests: [
        {
          method: 'POST',
          path: '/api/messages',
          setupRequest: (req: any) => {
            const i = Math.floor(Math.random() * n);
            return {
              ...req,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${seeded.keys[i]}` },
              body: JSON.stringify({ recipient_id: seeded.ids[(i + 1) % n], body: 'x'.repeat(200) }),
            };
          },
        },
      ],
    }),
  );
}
if (activity) console.log(await activity.stop());
await stop(server.child);
cluster?.stop();

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}
for (const file of readdirSync(profiles).sort()) {
  const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as CpuProfile;
  const byNode = new Map<number, number>();
  profile.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const t = byNode.get(node.id) ?? 0;
    total += t;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/src\//, 'src/')}:${lineNumber + 1}`;
    self.set(where, (self.get(where) ?? 0) + t);
  }
  const busy = 1 - (self.get('(idle) :0') ?? 0) / total;
  if (busy < 0.1) continue; // threads that only loaded modules
  console.log(`\n── ${file}: busy ${(busy * 100).toFixed(0)} %`);
  for (const [where, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`${((t / total) * 100).toFixed(1).padStart(5)} %  ${where}`);
}
rmSync(dir, { recursive: true, force: true });
