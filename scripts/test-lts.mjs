#!/usr/bin/env node
// Runs the LTS subset of the test suite on a Node LTS — 22 by default, the Docker image's (AMTP_LTS_NODE=24
// for the next one; see docs/SELF-HOSTING.md, "Supported Node versions") — besides the Node that runs
// `npm test`. Nothing is added to the project's dependencies:
//   1. `npm install --no-save node@22` into a cache directory (the `node` package ships the binary and
//      its headers);
//   2. better-sqlite3, at the project's version, into another cache directory, compiled from source
//      against those headers (a native addon is built for one Node ABI; the project's copy stays as is);
//   3. scripts/lts/native-addon.cjs (preloaded through NODE_OPTIONS, so also in worker threads and
//      child processes) makes better-sqlite3 load that build, then scripts/test.mjs runs the subset with
//      the LTS binary — integration tests on SQLite and on PostgreSQL, as for `npm test`.
// The cache ($AMTP_LTS_CACHE, default ~/.cache/agent2agent-lts) makes later runs skip steps 1–2
// (the first build takes about a minute and a half on two cores).
// Without network or a compiler the run is SKIPPED loudly; under CI=true it fails instead.
// Usage: node scripts/test-lts.mjs [path-substring ...]   (default: the LTS subset below)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What runs on the LTS: everything that touches the runtime — unit tests (crypto, SSRF, stores), the
 * API, MCP, SSE, end-to-end sealed mail, backup/restore through the CLI and the server's own process
 * (logs) — on SQLite and PostgreSQL. Left out: suites about files and other programs (container,
 * reverse proxies), the slow reliability/security/bench suites, multi-instance and the browser.
 */
const LTS_SUBSET = [
  'src/',
  'test/api/',
  'test/mcp/',
  'test/push/stream',
  'test/e2e/',
  'test/cli/backup',
  'test/cli/restore-drill',
  'test/deploy/logs',
];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = process.env.AMTP_LTS_NODE ?? '22';
const cache = process.env.AMTP_LTS_CACHE ?? join(homedir(), '.cache', 'agent2agent-lts');

function fail(reason) {
  if (process.env.CI === 'true') {
    console.error(`\nFAIL: ${reason}\nCI=true: the suite must also run on Node ${major} (LTS).\n`);
    process.exit(1);
  }
  const bar = '!'.repeat(100);
  console.warn(`\n${bar}\n!! The Node ${major} (LTS) test run is SKIPPED: ${reason}\n${bar}\n`);
  process.exit(0);
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${result.stderr || result.stdout || result.error}`);
  return result.stdout;
}

/** Step 1: the LTS binary and headers, from the npm registry's `node` package. */
function installNode() {
  const dir = join(cache, `node-${major}`);
  const dist = join(dir, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`);
  if (!existsSync(join(dist, 'bin', 'node'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    console.log(`Installing node@${major} into ${dir} …`);
    run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `node@${major}`], { cwd: dir });
  }
  if (!existsSync(join(dist, 'include', 'node', 'common.gypi')))
    throw new Error(`node@${major} came without its headers (${dist}/include)`);
  return { bin: join(dist, 'bin', 'node'), dist, version: run(join(dist, 'bin', 'node'), ['--version']).trim() };
}

/** Step 2: better-sqlite3 at the project's version, compiled for the LTS ABI. */
function buildSqlite(node) {
  const version = JSON.parse(readFileSync(join(root, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')).version;
  const dir = join(cache, `better-sqlite3-${version}-node-${node.version}`);
  const addon = join(dir, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(addon)) return addon;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
  console.log(`Building better-sqlite3 ${version} for Node ${node.version} in ${dir} …`);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts', `better-sqlite3@${version}`], {
    cwd: dir,
  });
  // node-gyp finds headers in <devdir>/<version>/include/node; point it at the ones the package ships.
  const target = node.version.slice(1);
  const devdir = join(dir, 'gyp');
  mkdirSync(join(devdir, target), { recursive: true });
  symlinkSync(join(node.dist, 'include'), join(devdir, target, 'include'));
  writeFileSync(join(devdir, target, 'installVersion'), '11\n');
  // --nodedir names the LTS headers outright: this machine's npm config sets nodedir to the installed
  // Node's headers, and under `npm test` that arrives as npm_config_nodedir, which would win over --target.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(nodedir|target|devdir)$/i.test(k)));
  run(
    process.execPath,
    [nodeGyp(), 'rebuild', '--release', `--target=${target}`, `--devdir=${devdir}`, `--nodedir=${node.dist}`, '-j', '2'],
    { cwd: join(dir, 'node_modules', 'better-sqlite3'), env },
  );
  // Fail here, not in every test, if the build does not load on the LTS Node.
  run(node.bin, ['-e', `process.dlopen({ exports: {} }, ${JSON.stringify(addon)})`]);
  if (!existsSync(addon)) throw new Error(`node-gyp finished without ${addon}`);
  return addon;
}

/** The node-gyp that npm bundles (npm_execpath when run through npm, else the global npm's). */
function nodeGyp() {
  const npmDirs = [
    process.env.npm_execpath && join(dirname(process.env.npm_execpath), '..'),
    join(run('npm', ['root', '-g']).trim(), 'npm'),
  ];
  for (const dir of npmDirs.filter(Boolean)) {
    const gyp = join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(gyp)) return gyp;
  }
  throw new Error(`npm's node-gyp not found (looked in ${npmDirs.filter(Boolean).join(', ')})`);
}

let node;
let addon;
try {
  node = installNode();
  addon = buildSqlite(node);
} catch (error) {
  fail(error.message);
}

const filters = process.argv.length > 2 ? process.argv.slice(2) : LTS_SUBSET;
console.log(`\n── the LTS subset on Node ${node.version}: ${filters.join(' ')}\n`);
const preload = join(root, 'scripts', 'lts', 'native-addon.cjs');
const nodeOptions = [process.env.NODE_OPTIONS, `--require=${preload}`].filter(Boolean).join(' ');
const result = spawnSync(node.bin, [join(root, 'scripts', 'test.mjs'), ...filters], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: nodeOptions, LTS_SQLITE_ADDON: addon, PATH: `${dirname(node.bin)}:${process.env.PATH}` },
});
console.log(`\n── Node ${node.version} (LTS) subset: ${result.status === 0 ? 'passed' : 'FAILED'}\n`);
process.exit(result.status ?? 1);
