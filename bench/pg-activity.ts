/**
 * While a PostgreSQL benchmark runs: what the database's backends are doing (pg_stat_activity,
 * sampled every 20 ms) and how the CPU splits between the AMTP server process and PostgreSQL's
 * processes (from /proc). Answers "is it waiting on locks, on the WAL flush, or on the client?".
 */
import { execFileSync } from 'node:child_process';
import type pg from 'pg';
import { cpuMs } from './lib.js';

export interface ActivitySampler {
  stop(): Promise<string>;
}

const postgresPids = () => execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);

export function sampleActivity(client: pg.Client, serverPid: number): ActivitySampler {
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const started = Date.now();
  const before = { server: cpuMs(serverPid), postgres: postgresPids().reduce((t, p) => t + cpuMs(p), 0) };
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ what: string; n: number }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') || ' (' || state || ')' AS what, count(*)::int AS n
           FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state <> 'idle' GROUP BY 1`,
      );
      samples++;
      for (const r of rows) counts.set(r.what, (counts.get(r.what) ?? 0) + r.n);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      const seconds = (Date.now() - started) / 1000;
      const server = (cpuMs(serverPid) - before.server) / 1000 / seconds;
      const postgres = (postgresPids().reduce((t, p) => t + cpuMs(p), 0) - before.postgres) / 1000 / seconds;
      const lines = [...counts].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${(n / samples).toFixed(2).padStart(6)}  ${what}`);
      return [
        `── PostgreSQL backends, average number in each state over ${samples} samples:`,
        ...lines,
        `── CPU: AMTP server ${(server * 100).toFixed(0)} %, PostgreSQL ${(postgres * 100).toFixed(0)} % (of one core; ${seconds.toFixed(0)} s)`,
      ].join('\n');
    },
  };
}
