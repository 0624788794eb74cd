/** The benchmark suite in its seconds-long smoke mode, so it cannot rot (figures are not asserted). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

test('npm run bench -- --smoke runs every figure and writes its results', { skip: process.env.AMTP_TEST_BACKEND === 'postgres' && 'runs once' }, () => {
  const root = new URL('../../', import.meta.url).pathname;
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  assert.equal(run.status, 0, run.stderr);
  const results = JSON.parse(readFileSync(`${root}bench/results/smoke.json`, 'utf8'));
  assert.equal(results.smoke, true);
  assert.deepEqual(
    results.figures.map((f: { name: string }) => f.name.split(',')[0]),
    ['ceiling: trivial 202', 'send', 'inbox', 'inbox'],
  );
  for (const f of results.figures) assert.ok(f.rps > 0, f.name);
  assert.ok(results.ratios.send_vs_ceiling > 0);
  console.log(run.stdout.trim().split('\n').slice(-6).join('\n'));
});
