/**
 * `amtp` as people install it: `npm pack`, then `npm install -g` of the tarball into a temporary
 * prefix, then the installed `amtp` from an unrelated directory. One install serves every assertion.
 * The tarball packs the built dist/ and web/dist/ (a plain `npm pack` builds them through `prepare`;
 * here the tree is already built, as for the web tests, so the pack does not rebuild under other tests).
 * Install scripts are skipped: the commands below never open the SQLite native module.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

describe('the packed package, installed globally', () => {
  const dir = mkdtempSync(join(tmpdir(), 'amtp-pack-'));
  const prefix = join(dir, 'prefix');
  const elsewhere = mkdtempSync(join(tmpdir(), 'amtp-elsewhere-'));
  let tarball: string;
  let installed: string;

  /** Runs the installed `amtp` from PATH in an unrelated directory; the guard only stops a hang. */
  const amtp = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('AMTP_') && !k.startsWith('npm_') && k !== 'NODE_OPTIONS'),
      );
      const child = spawn('amtp', args, {
        cwd: elsewhere,
        env: { ...env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, AMTP_CONFIG_DIR: join(elsewhere, 'config') },
      });
      let stdout = '';
      let stderr = '';
      const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => (clearTimeout(guard), resolve({ code, stdout, stderr })));
    });

  before(async () => {
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    tarball = join(dir, info.filename);
    const files = info.files.map((f) => f.path);
    for (const needed of ['dist/cli/main.js', 'dist/client/index.js', 'web/dist/index.html', 'README.md', '.env.example'])
      assert.ok(files.includes(needed), `the tarball holds ${needed}`);
    assert.ok(
      !files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('node_modules/')),
      'no sources, tests or node_modules',
    );
    await run('npm', ['install', '--global', '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund', tarball], {
      cwd: elsewhere,
      maxBuffer: 16 * 1024 * 1024,
    });
    installed = join(prefix, 'lib', 'node_modules', info.filename.replace(/-\d+\.\d+\.\d+.*\.tgz$/, ''));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  test('only runtime dependencies are installed', () => {
    const deps = readdirSync(join(installed, 'node_modules'));
    for (const dev of ['tsx', 'typescript', 'vite', 'preact', 'playwright-core', 'fast-check', '@types'])
      assert.ok(!deps.includes(dev), `${dev} is a dev dependency`);
    for (const runtime of ['fastify', 'better-sqlite3', 'pg', '@modelcontextprotocol']) assert.ok(deps.includes(runtime), runtime);
  });

  test('amtp --version, from an unrelated directory', async () => {
    const r = await amtp('--version');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^amtp-mailbox \d+\.\d+\.\d+\n$/);
  });

  test('amtp send --help prints the command help and exits 0', async () => {
    const r = await amtp('send', '--help');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: amtp send <agent> <text…\|-> /);
    assert.match(r.stdout, /--plain/);
    assert.match(r.stdout, /AMTP_CONFIG_DIR/);
  });

  test('amtp serve --help returns at once without starting a server', async () => {
    const r = await amtp('serve', '--help');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: amtp serve\n/);
    assert.doesNotMatch(r.stdout + r.stderr, /listening/);
  });

  test('amtp with no arguments prints usage and exits non-zero', async () => {
    const r = await amtp();
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Usage: amtp <command>/);
  });
});
