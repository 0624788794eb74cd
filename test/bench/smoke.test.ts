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
    const expected = [
      'ceiling',
      'send, unsigned',
      'ed25519 verify',
      'send, signed',
      'send, sealed + signed',
      'inbox, 50 unread of 10,000 stored',
      'inbox, 50 unread of 10,000, one client',
      'inbox, 50 unread of 20,000 stored',
      'inbox, 50 unread of 20,000, one client',
      'send → SSE',
      'send → webhook',
      'send → SSE',
      'send → webhook',
      'cross-server',
      'memory',
      'peer',
      'A2A SendMessage into a mailbox',
      ...(postgresUnavailableReason()
        ? []
        : ['PostgreSQL: send, 1', 'PostgreSQL: send, 2', 'PostgreSQL: inbox (50 unread), 1', 'PostgreSQL: inbox (50 unread), 2']),
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
    console.log(run.stdout.trim().split('\n').slice(-20).join('\n'));
  },
);
