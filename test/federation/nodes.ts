/**
 * Federation test servers: each a real `amtp serve` process with its own data (a SQLite directory,
 * or a fresh PostgreSQL database), on a port chosen before it starts so that its public URL — and
 * so its domain, 127.0.0.1:<port> — is known. Loopback and plain HTTP are allowed for federation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freshDatabase, type TestDatabase } from '../helpers/postgres.js';
import { CLI } from '../helpers/cli.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface Node {
  url: string;
  /** Where the process itself listens (the public URL may be a proxy in front of it). */
  directUrl: string;
  domain: string;
  /** `handle@domain` of a handle on this server. */
  at(handle: string): string;
  start(): Promise<void>;
  /** SIGTERM, waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, waits for the exit. */
  kill(): Promise<void>;
  close(): Promise<void>;
  /** Reads this node's SQLite database (not for a PostgreSQL node), as an operator could. */
  query(sql: string, ...params: unknown[]): Record<string, unknown>[];
}

/** `publicPort`: the node is reached through a proxy on that port (its public URL and domain name the proxy). */
export async function startNode(
  env: Record<string, string> = {},
  options: { postgres?: boolean; publicPort?: number } = {},
): Promise<Node> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'amtp-fed-'));
  const database: TestDatabase | null = options.postgres ? await freshDatabase() : null;
  const publicPort = options.publicPort ?? port;
  const url = `http://127.0.0.1:${publicPort}`;
  const fullEnv = {
    ...process.env,
    AMTP_PORT: String(port),
    AMTP_PUBLIC_URL: url,
    AMTP_DATA_DIR: dataDir,
    AMTP_LOG_LEVEL: 'error',
    AMTP_FEDERATION_ALLOW_HTTP: 'true',
    AMTP_FEDERATION_ALLOW_LOOPBACK: 'true',
    AMTP_FEDERATION_RETRY_SCHEDULE: '0.3,0.3,0.5,0.5,1,1,1,1,1,1',
    AMTP_WEBHOOK_LEASE_SECONDS: '3',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...env,
  };
  let child: ChildProcess | null = null;
  const exited = () =>
    new Promise<void>((resolve) =>
      child && child.exitCode === null && child.signalCode === null ? child.once('exit', () => resolve()) : resolve(),
    );
  const node: Node = {
    url,
    directUrl: `http://127.0.0.1:${port}`,
    domain: `127.0.0.1:${publicPort}`,
    at: (handle) => `${handle}@127.0.0.1:${publicPort}`,
    async start() {
      const proc = spawn(process.execPath, [...CLI, 'serve'], { env: fullEnv, stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      await new Promise<void>((resolve, reject) => {
        let out = '';
        proc.stderr.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('listening on')) resolve();
        });
        proc.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${out}`)));
      });
      proc.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    },
    async stop() {
      const done = exited();
      child?.kill('SIGTERM');
      await done;
    },
    async kill() {
      const done = exited();
      child?.kill('SIGKILL');
      await done;
    },
    query(sql, ...params) {
      const db = new Database(join(dataDir, 'amtp.sqlite'), { readonly: true });
      try {
        return db.prepare(sql).all(...params) as Record<string, unknown>[];
      } finally {
        db.close();
      }
    },
    async close() {
      await node.kill();
      rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
  await node.start();
  return node;
}
