#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's own test runner (TypeScript through tsx), then
// runs the integration tests under test/ a second time against PostgreSQL (AMTP_TEST_BACKEND=postgres).
// One throwaway PostgreSQL cluster serves the whole run (see test/helpers/postgres.ts); without
// PostgreSQL its suites are skipped loudly — or, under CI=true, the run fails.
// Without a filter it then checks error-code coverage: test servers record every error code they
// answer with into AMTP_ERROR_CODES_DIR, and test/error-codes.final.ts compares them with SPEC §11.
// Usage: node scripts/test.mjs [path-substring ...]  — filters the files by substring.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { spawn } from 'node:child_process';
import { tsImport } from 'tsx/esm/api';

function findTests(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function run(label, files, env) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.AMTP_TEST_CONCURRENCY ?? 2}`, ...files],
      { stdio: 'inherit', env: { ...process.env, ...env } },
    );
    child.on('exit', (code, signal) => {
      console.log(
        `\n── ${label}: ${files.length} files, ${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
      );
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const filters = process.argv.slice(2);
const files = ['src', 'test']
  .flatMap((d) => {
    try {
      return findTests(d);
    } catch {
      return [];
    }
  })
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// Suites that pick their own backend(s) run in the first pass only.
const backendSpecific = [`${sep}multi-instance${sep}`, `${sep}cli${sep}`];
const integration = files.filter((f) => f.startsWith(`test${sep}`) && !backendSpecific.some((d) => f.includes(d)));

const pgHelper = await tsImport('../test/helpers/postgres.ts', import.meta.url);
const unavailable = pgHelper.postgresUnavailableReason();
const codesDir = mkdtempSync(join(tmpdir(), 'amtp-error-codes-'));
process.once('exit', () => rmSync(codesDir, { recursive: true, force: true }));
const env = { AMTP_ERROR_CODES_DIR: codesDir };
if (unavailable) {
  if (process.env.CI === 'true') {
    console.error(`\nFAIL: ${unavailable}\nCI=true: the PostgreSQL suites must run. Install it with scripts/ensure-postgres.sh.\n`);
    process.exit(1);
  }
  const bar = '!'.repeat(100);
  console.warn(`\n${bar}\n!! PostgreSQL suites will be SKIPPED: ${unavailable}\n${bar}\n`);
} else {
  env.AMTP_TEST_DATABASE_URL = await pgHelper.postgresServerUrl();
}

let status = await run('all tests (integration on SQLite)', files, env);
if (!unavailable && integration.length > 0) {
  status = (await run('integration tests on PostgreSQL', integration, { ...env, AMTP_TEST_BACKEND: 'postgres' })) || status;
}
if (filters.length === 0)
  status = (await run('error-code coverage (SPEC §11 ⇄ codes observed)', [join('test', 'error-codes.final.ts')], env)) || status;
if (unavailable) console.warn(`\n!! PostgreSQL suites were SKIPPED: ${unavailable}\n`);
process.exit(status);
