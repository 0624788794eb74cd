/**
 * The container files, checked as far as a machine without a Docker engine allows: the compose file
 * parses and resolves (docker compose / docker-compose `config` needs no engine), and the Dockerfile
 * builds and runs exactly what the package scripts do.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const read = (f: string) => readFileSync(join(root, f), 'utf8');

function composeCommand(): string[] | null {
  if (spawnSync('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version']).status === 0) return ['docker-compose'];
  return null;
}

const compose = composeCommand();
if (!compose) {
  const bar = '!'.repeat(90);
  console.warn(
    `\n${bar}\n!! docker compose is not installed: the compose parse test is SKIPPED (scripts/ensure-test-deps.sh installs it)\n${bar}\n`,
  );
  if (process.env.CI === 'true') throw new Error('CI=true: docker compose (or docker-compose) must be installed for the container tests');
}

test('compose.yaml parses and resolves with cp .env.example .env, both profiles', { skip: !compose && 'docker compose missing' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'amtp-compose-'));
  try {
    copyFileSync(join(root, 'compose.yaml'), join(dir, 'compose.yaml'));
    copyFileSync(join(root, '.env.example'), join(dir, '.env'));
    for (const args of [['config'], ['--profile', 'sqlite', 'config']]) {
      const out = spawnSync(compose![0]!, [...compose!.slice(1), '-f', join(dir, 'compose.yaml'), '--project-directory', dir, ...args], {
        encoding: 'utf8',
      });
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stdout, /DATABASE_URL: postgres:\/\/amtp:change-me@postgres:5432\/amtp/);
      assert.match(out.stdout, /AMTP_HOST: 0\.0\.0\.0/);
      // Published on loopback only (the reverse proxy on the host reaches it; nothing else bypasses it),
      // with the host names a bind beyond loopback needs to start (assertHostsConfigured).
      assert.match(out.stdout, /127\.0\.0\.1:8787:8787|host_ip: 127\.0\.0\.1/);
      assert.doesNotMatch(out.stdout, /^\s+- (0\.0\.0\.0:)?8787:8787$/m);
      assert.match(out.stdout, /AMTP_PUBLIC_URL: http:\/\/localhost:8787/);
      assert.match(out.stdout, /max-size: 10m/, 'container logs are bounded');
      assert.match(out.stdout, /pgdata/);
      if (args.includes('sqlite')) assert.match(out.stdout, /amtp-sqlite/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Dockerfile: multi-stage, slim non-root runtime, HEALTHCHECK, and the same commands as the package scripts', () => {
  const dockerfile = read('Dockerfile');
  const pkg = JSON.parse(read('package.json'));
  assert.equal((dockerfile.match(/^FROM /gm) ?? []).length, 2, 'two stages');
  // The LTS that scripts/test-lts.mjs tests by default (see the Dockerfile for why not 24 yet).
  const lts = /const major = process\.env\.AMTP_LTS_NODE \?\? '(\d+)'/.exec(read('scripts/test-lts.mjs'))![1];
  assert.match(dockerfile, new RegExp(`^FROM node:${lts}-bookworm-slim AS build$`, 'm'));
  assert.match(dockerfile, new RegExp(`^FROM node:${lts}-bookworm-slim$`, 'm'));
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\n.*\/healthz/m);
  assert.match(dockerfile, /RUN npm run build/);
  assert.ok(pkg.scripts.build, 'npm run build exists');
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!).join(' ');
  assert.equal(cmd, pkg.scripts.start, 'the container runs what npm start runs');
  assert.match(pkg.scripts.start, /^node dist\/cli\/main\.js serve$/);
  for (const copied of [...dockerfile.matchAll(/^COPY --from=build \/app\/(\S+)/gm)].map((m) => m[1]!)) {
    assert.ok(['package.json', 'node_modules', 'dist', 'web/dist'].includes(copied), `unexpected ${copied}`);
  }
  assert.match(read('README.md'), /cp \.env\.example \.env && docker compose up -d/);
});
