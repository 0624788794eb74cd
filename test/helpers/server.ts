/**
 * Test harness: a real server on a loopback port, over a real data directory — or, with
 * AMTP_TEST_BACKEND=postgres, over a fresh PostgreSQL database (see ./postgres.ts).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig, type Clock, type Config } from '../../src/config.js';
import type { FastifyInstance } from 'fastify';
import { createServer, type AmtpServer } from '../../src/http/server.js';
import type { ErrorBody } from '../../src/protocol/errors.js';
import type { ContactRequest, RegisterOutput } from '../../src/protocol/schemas.js';
import { freshDatabase, type TestDatabase } from './postgres.js';

export type Backend = 'sqlite' | 'postgres';
/** The backend integration tests run on (scripts/test.mjs runs them once per backend). */
export const backend: Backend = process.env.AMTP_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

export interface TestServer {
  url: string;
  server: AmtpServer;
  dataDir: string;
  config: Config;
  backend: Backend;
  /** Stops and starts again on the same data directory / database; `whileStopped` runs in between. */
  restart(whileStopped?: () => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
  /** Runs SQL directly on the server's database, as an operator with database access could; `?` placeholders. */
  sql(query: string, ...params: unknown[]): Promise<Record<string, unknown>[]>;
}

/**
 * A server on `options.backend` (default: AMTP_TEST_BACKEND). A DATABASE_URL in `env` is used as is
 * (several servers on one database); otherwise PostgreSQL servers get a fresh database, dropped on close.
 */
export async function startServer(
  env: Record<string, string> = {},
  options: { backend?: Backend; clock?: Clock } = {},
): Promise<TestServer> {
  const dataDir = env.AMTP_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'amtp-test-'));
  const kind = env.DATABASE_URL ? 'postgres' : (options.backend ?? backend);
  const database: TestDatabase | null = kind === 'postgres' && !env.DATABASE_URL ? await freshDatabase() : null;
  const databaseUrl = env.DATABASE_URL ?? database?.url;
  const config = loadConfig(
    { AMTP_PORT: '0', AMTP_LOG_LEVEL: 'silent', AMTP_DATA_DIR: dataDir, ...env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    options.clock ? { clock: options.clock } : {},
  );
  const t: TestServer = {
    url: '',
    server: undefined as unknown as AmtpServer,
    dataDir,
    config,
    backend: kind,
    async restart(whileStopped) {
      await t.server.close();
      await whileStopped?.();
      await boot();
    },
    async close() {
      await t.server.close();
      if (!env.AMTP_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
    async sql(query, ...params) {
      if (databaseUrl) {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        try {
          let i = 0;
          return (
            await client.query(
              query.replace(/\?/g, () => `$${++i}`),
              params,
            )
          ).rows;
        } finally {
          await client.end();
        }
      }
      const db = new Database(join(dataDir, 'amtp.sqlite'));
      try {
        const stmt = db.prepare(query);
        if (stmt.reader) return stmt.all(...params) as Record<string, unknown>[];
        stmt.run(...params);
        return [];
      } finally {
        db.close();
      }
    },
  };
  const boot = async () => {
    t.server = await createServer(config);
    recordErrorCodes(t.server.app);
    t.url = await t.server.listen();
  };
  await boot();
  return t;
}

/**
 * Readiness signal instead of a fixed sleep: resolves once `server` holds `count` (default: at least one)
 * long-polls waiting for `agentId` — from then on, mail committed anywhere wakes them.
 */
export async function untilWaiting(server: AmtpServer, agentId: string, count = 1): Promise<void> {
  await until(() => server.core.notifier.waiting(agentId) >= count, `a long-poll of ${agentId} waiting`);
}

/** Resolves once `server` holds a listener (a stream or a long-poll) for `agentId`. */
export async function untilListening(server: AmtpServer, agentId: string): Promise<void> {
  await until(() => server.core.notifier.listening(agentId) > 0, `a listener for ${agentId}`);
}

async function until(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * With AMTP_ERROR_CODES_DIR (set by scripts/test.mjs), every error code a test server answers with is
 * appended to a file per process there; after the whole suite, test/error-codes.final.ts compares the
 * codes observed with the SPEC's error table in both directions. Order-independent: it only unions files.
 */
function recordErrorCodes(app: FastifyInstance): void {
  const dir = process.env.AMTP_ERROR_CODES_DIR;
  if (!dir) return;
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      const code = /^\{"error":\{"code":"([a-z_]+)"/.exec(payload)?.[1];
      if (code) appendFileSync(join(dir, `${process.pid}.codes`), `${code}\n`);
    }
    return payload;
  });
}

/**
 * A JSON reply. `T` is the wire type (src/protocol/schemas.ts) the test expects in the body, e.g.
 * `api.get<InboxOutput>('/api/inbox')`; left out, the body is untyped, for tests that probe odd answers.
 */
export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** The body of every error answer: `{ error: { code, message, … } }`. */
export type ErrorReply = Reply<ErrorBody>;

/** A tiny REST client for tests: JSON in, JSON out, status and headers kept. */
export function client(baseUrl: string, apiKey?: string) {
  const call = async <T = any>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<Reply<T>> => {
    const headers: Record<string, string> = { ...extraHeaders };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return {
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body, headers),
    put: <T = any>(path: string, body?: unknown) => call<T>('PUT', path, body),
    del: <T = any>(path: string) => call<T>('DELETE', path),
    call,
  };
}

export type Client = ReturnType<typeof client>;

export interface TestAgent {
  id: string;
  name: string;
  key: string;
  api: Client;
}

let counter = 0;
export async function register(
  baseUrl: string,
  name = `agent-${process.pid}-${++counter}`,
  extra: Record<string, unknown> = {},
): Promise<TestAgent> {
  const res = await client(baseUrl).post<RegisterOutput>('/api/register', { name, ...extra });
  if (res.status !== 201) throw new Error(`register ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.agent_id, name, key: res.body.api_key, api: client(baseUrl, res.body.api_key) };
}

/** Two agents that authorize each other (A requests, B approves). */
export async function connect(a: TestAgent, b: TestAgent, scopes?: string[]): Promise<void> {
  const req = await a.api.post<ContactRequest>('/api/contact-requests', { agent_id: b.id, ...(scopes ? { scopes } : {}) });
  if (req.status !== 201) throw new Error(`request: ${req.status} ${JSON.stringify(req.body)}`);
  const ok = await b.api.post<ContactRequest>(`/api/contact-requests/${req.body.id}/approve`, scopes ? { scopes } : {});
  if (ok.status !== 200) throw new Error(`approve: ${ok.status} ${JSON.stringify(ok.body)}`);
}
