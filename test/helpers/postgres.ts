/**
 * PostgreSQL for tests. With AMTP_TEST_DATABASE_URL, that server is used; otherwise a throwaway
 * cluster is started from the machine's binaries (/usr/lib/postgresql/<version>/bin) in a temp dir,
 * on a free port, and removed when the process exits. Either way every suite gets its own database.
 * scripts/test.mjs starts one cluster for the whole run and hands its URL down in
 * AMTP_TEST_DATABASE_URL, so test files do not each run initdb.
 *
 * No PostgreSQL: suites skip with a loud warning locally, and fail under CI=true.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin directory, or null. */
export function postgresBinDir(): string | null {
  if (!existsSync(ROOT)) return null;
  const versions = readdirSync(ROOT)
    .filter((v) => existsSync(join(ROOT, v, 'bin', 'initdb')) && existsSync(join(ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(ROOT, versions[0], 'bin') : null;
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function postgresUnavailableReason(): string | null {
  if (process.env.AMTP_TEST_DATABASE_URL || postgresBinDir()) return null;
  return `PostgreSQL server binaries not found under ${ROOT}/*/bin. Run scripts/ensure-postgres.sh (Debian/Ubuntu) or set AMTP_TEST_DATABASE_URL.`;
}

/**
 * For a PostgreSQL suite: undefined when it can run; otherwise the reason to pass as node:test `skip`,
 * after a banner nobody can miss. Under CI=true a missing PostgreSQL fails instead.
 */
export function postgresSkip(suite: string): string | undefined {
  const reason = postgresUnavailableReason();
  if (!reason) return undefined;
  if (process.env.CI === 'true') throw new Error(`${suite}: ${reason} (CI=true: PostgreSQL suites must not be skipped)`);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPING ${suite}: ${reason}\n${'!'.repeat(100)}\n`);
  return `PostgreSQL unavailable: ${reason}`;
}

let cluster: Promise<string> | null = null;

/** The server to create test databases on: AMTP_TEST_DATABASE_URL, or a cluster of our own. */
export function postgresServerUrl(): Promise<string> {
  const given = process.env.AMTP_TEST_DATABASE_URL;
  if (given) return Promise.resolve(given);
  return (cluster ??= startPostgresCluster().then((c) => c.url));
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database (amtp_test_<random>). */
export async function freshDatabase(): Promise<TestDatabase> {
  const server = await postgresServerUrl();
  const name = `amtp_test_${randomBytes(6).toString('hex')}`;
  await admin(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function admin(server: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** pg_ctl restart -m fast: every connection is cut, the server comes back on the same port. */
  restart(): Promise<void>;
  stop(): void;
}

/**
 * A throwaway cluster of its own (removed on stop or process exit). Tests run it with fsync off;
 * `durable: true` (benchmarks) keeps PostgreSQL's defaults, so a commit is flushed like SQLite's.
 */
export async function startPostgresCluster(opts: { durable?: boolean } = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresUnavailableReason()!);
  const dir = mkdtempSync(join(tmpdir(), 'amtp-pg-'));
  // initdb refuses to run as root: run the server as an unprivileged system user.
  const user = process.getuid?.() === 0 ? ['postgres', 'nobody'].find(userExists) : undefined;
  if (process.getuid?.() === 0 && !user)
    throw new Error('running as root and neither a "postgres" nor a "nobody" user exists to run PostgreSQL');
  if (user)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', user], { encoding: 'utf8' })),
      Number(execFileSync('id', ['-g', user], { encoding: 'utf8' })),
    );
  const command = (tool: string, args: string[]) =>
    [user ? 'runuser' : join(bin, tool), user ? ['-u', user, '--', join(bin, tool), ...args] : args] as const;
  const run = (tool: string, args: string[]) => execFileSync(...command(tool, args), { stdio: 'pipe', cwd: dir });

  const data = join(dir, 'data');
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
    const speed = opts.durable ? '' : ' -c fsync=off -c full_page_writes=off';
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${speed} -c max_connections=300`;
    run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
  } catch (error) {
    const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`could not start a test PostgreSQL cluster: ${(error as Error).message}\n${stderr}\n${log}`);
  }

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      stop();
      process.kill(process.pid, signal);
    });
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: async () =>
      void (await promisify(execFile)(
        ...command('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-m', 'fast', '-w', '-t', '60', 'restart']),
        { cwd: dir },
      )),
    stop,
  };
}

function userExists(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
