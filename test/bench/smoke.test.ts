/** The benchmark suite in its seconds-long smoke mode, so it cannot rot (figures are not asserted). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { postgresUnavailableReason } from '../helpers/postgres.js';

test(
  'npm run bench -- --smoke runs every figure and writes its results',
  { skip: process.env.AMTP_TEST_BACKEND === 'postgres' && 'runs once' },
  () => {
    const root = new URL('../../', import.meta.url).pathname;
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const results = JSON.parse(readFileSync(`${root}bench/results/smoke.json`, 'utf8'));
    assert.equal(results.smoke, true);
    const names: string[] = results.figures.map((f: { name: string }) => f.name);
    const postgres = !postgresUnavailableReason();
    const curve = ['1,000', '2,000', '5,000'];
    const expected = [
      'ceiling',
      'raw better-sqlite3 insert, batch 32',
      'send, unsigned',
      'ed25519 verify',
      'send, signed',
      'send, sealed + signed',
      ...curve.flatMap((n) => [
        `inbox, 50 unread of ${n} stored`,
        `inbox, 50 unread of ${n}, one client`,
        `send, unsigned, durable, ${n} stored`,
      ]),
      'send → SSE',
      'send → webhook',
      'send → SSE',
      'send → webhook',
      'cross-server',
      'memory',
      'peer',
      'A2A SendMessage into a mailbox',
      ...(postgres
        ? [
            'PostgreSQL: inbox (50 unread), 1 instance',
            'PostgreSQL: inbox (50 unread), 2 instances',
            'PostgreSQL: send, 1 instance',
            'PostgreSQL: send, 2 instances',
            ...curve
              .slice(1)
              .flatMap((n) => [`PostgreSQL: inbox (50 unread), 1 instance, ${n} stored`, `PostgreSQL: send, 1 instance, ${n} stored`]),
          ]
        : []),
    ];
    assert.deepEqual(
      names.map((n, i) => n.startsWith(expected[i] ?? '\0')),
      expected.map(() => true),
      names.join(' | '),
    );
    for (const f of results.figures) assert.ok(f.rps > 0 || f.name.startsWith('memory'), f.name);
    assert.ok(results.extras.rss_mib_with_streams > 0);
    for (const key of ['send_vs_ceiling', 'signed_vs_verify_rate', 'sealed_vs_verify_rate', 'inbox_p99_big_vs_small', 'send_vs_peer'])
      assert.ok(results.ratios[key] > 0, key);
    // Issue 16's targets, each judged (PostgreSQL's only with PostgreSQL); the cost curve; RSS of the send and inbox servers.
    assert.equal(results.targets.length, 10);
    for (const t of results.targets) assert.ok(t.met !== null || (!postgres && t.name.includes('PostgreSQL')), t.name);
    assert.deepEqual(
      results.cost_curve.map((p: { backend: string; stored: number }) => `${p.backend} ${p.stored}`),
      ['SQLite', ...(postgres ? ['PostgreSQL'] : [])].flatMap((b) => [1000, 2000, 5000].map((n) => `${b} ${n}`)),
    );
    for (const p of results.cost_curve) assert.ok(p.send_rps > 0 && p.inbox_rps > 0 && p.inbox_p99_ms >= 0, JSON.stringify(p));
    assert.equal(results.rss_after_bench_mib.length, 4);
    console.log(run.stdout.trim().split('\n').slice(-40).join('\n'));
  },
);
