/**
 * `amtp export` / `amtp import`: moves a whole server between backends (SQLite ⇄ PostgreSQL) through
 * a JSON-lines file. Line 1 is a header, then one `{"t": table, "r": row}` per row, tables in
 * foreign-key order, and a last line with every table's row count. Rows hold dialect-neutral values
 * (JSON columns as JSON values, booleans as booleans), keep their sequence numbers (message seq,
 * audit and event seq) and so their order and audit hash chains.
 *
 * Export reads one consistent snapshot. Import needs an empty, migrated target of the same schema
 * version, loads everything in one transaction, then verifies each table's row count against the
 * file and every agent's audit chain, and fails loudly on any difference.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { findBrokenLink, findBrokenServerLink } from '../protocol/audit-chain.js';
import { findJsonProblem, MAX_STORED_JSON_DEPTH } from '../protocol/json-input.js';
import { exportEncryptor, readExportLines } from './export-crypto.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { postgresMigrations } from './postgres/migrations.js';
import { sqliteMigrations } from './sqlite/migrations.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Row } from './rows.js';
import type { Store } from './types.js';

const FORMAT = 'amtp-export';
const FORMAT_VERSION = 1;

interface TableSpec {
  name: string;
  /** Primary key: export pages through the table in this order. */
  key: string[];
  columns: string[];
  json?: string[];
  bool?: string[];
}

/** Every table but schema_migrations, parents before children. Update when a migration changes the schema. */
export const TABLES: TableSpec[] = [
  {
    name: 'agents',
    key: ['id'],
    columns: [
      'id',
      'name',
      'display_name',
      'public_key',
      'encryption_key',
      'api_key_hash',
      'created_at',
      'delivery_secret',
      'key_rotation',
      'keys_reset_at',
      'suspended_at',
      'quiet_hours',
    ],
    json: ['key_rotation'],
  },
  {
    name: 'grants',
    key: ['granter_id', 'grantee_id'],
    columns: ['granter_id', 'grantee_id', 'scopes', 'created_at', 'updated_at'],
    json: ['scopes'],
  },
  { name: 'blocks', key: ['blocker_id', 'blocked_id'], columns: ['blocker_id', 'blocked_id', 'created_at'] },
  {
    name: 'contact_requests',
    key: ['id'],
    columns: ['id', 'from_id', 'to_id', 'note', 'scopes', 'status', 'created_at', 'decided_at'],
    json: ['scopes'],
  },
  {
    name: 'messages',
    key: ['seq'],
    columns: [
      'seq',
      'id',
      'thread_id',
      'sender_id',
      'recipient_id',
      'subject',
      'body',
      'scope',
      'intent',
      'payload',
      'reply_to_id',
      'client_id',
      'created_at',
      'delivered_at',
      'read_at',
      'sealed',
      'sealed_for_sender',
      'ed25519_signature',
      'sig_nonce',
      'signed_at',
      'origin',
      'reply_by',
      'deadline_state',
      'deadline_note',
      'deadline_at',
      'held_until',
      'processed',
    ],
    json: ['payload', 'sealed', 'sealed_for_sender'],
  },
  { name: 'capabilities', key: ['agent_id'], columns: ['agent_id', 'capabilities', 'updated_at'], json: ['capabilities'] },
  {
    name: 'audit_log',
    key: ['agent_id', 'seq'],
    columns: ['agent_id', 'seq', 'at', 'action', 'target_id', 'details', 'prev_hash', 'hash'],
    json: ['details'],
  },
  { name: 'invites', key: ['token_hash'], columns: ['token_hash', 'created_at', 'expires_at', 'used_at', 'used_by', 'revoked_at'] },
  { name: 'events', key: ['agent_id', 'seq'], columns: ['agent_id', 'seq', 'id', 'type', 'data', 'created_at'], json: ['data'] },
  {
    name: 'webhooks',
    key: ['agent_id'],
    columns: ['agent_id', 'url', 'secret', 'events', 'enabled', 'disabled_reason', 'created_at', 'updated_at'],
    json: ['events'],
    bool: ['enabled'],
  },
  {
    name: 'outbox',
    key: ['id'],
    columns: [
      'id',
      'kind',
      'agent_id',
      'queue',
      'position',
      'status',
      'attempts',
      'not_before',
      'lease_until',
      'last_status',
      'last_error',
      'created_at',
      'updated_at',
    ],
  },
  { name: 'sig_nonces', key: ['sender_id', 'nonce'], columns: ['sender_id', 'nonce', 'expires_at'] },
  { name: 'server_audit', key: ['seq'], columns: ['seq', 'at', 'action', 'target_id', 'details', 'prev_hash', 'hash'], json: ['details'] },
  { name: 'server_keys', key: ['kid'], columns: ['kid', 'public_key', 'secret_key', 'current', 'created_at', 'retired_at'] },
  { name: 'a2a_peers', key: ['agent_id'], columns: ['agent_id', 'card_url', 'created_at'] },
  {
    name: 'a2a_canceled',
    key: ['message_id'],
    columns: ['message_id', 'sender_id', 'recipient_id', 'thread_id', 'created_at', 'canceled_at'],
  },
  // guard rails (migration 9)
  {
    name: 'grant_limits',
    key: ['granter_id', 'grantee_id', 'scope'],
    columns: ['granter_id', 'grantee_id', 'scope', 'expires_at', 'remaining'],
  },
  { name: 'guard_settings', key: ['agent_id'], columns: ['agent_id', 'leak_guard', 'per_hour', 'per_day', 'updated_at'] },
  { name: 'pair_budgets', key: ['recipient_id', 'sender_id'], columns: ['recipient_id', 'sender_id', 'per_hour', 'per_day', 'updated_at'] },
  {
    name: 'budget_counters',
    key: ['recipient_id', 'sender_id', 'period', 'window_start'],
    columns: ['recipient_id', 'sender_id', 'period', 'window_start', 'count'],
  },
  { name: 'thread_loops', key: ['thread_id'], columns: ['thread_id', 'agent_a', 'agent_b', 'messages', 'flagged_at', 'cleared_at'] },
  { name: 'held_messages', key: ['id'], columns: ['id', 'sender_id', 'recipient_id', 'thread_id', 'input', 'reasons', 'created_at'] },
];

export type Counts = Record<string, number>;

/** Raw table access on one connection; `?` placeholders. */
interface Conn {
  dialect: Store['dialect'];
  schemaVersion: number;
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
  columns(table: string): Promise<string[]>;
  release(): void;
}

async function connect(store: Store): Promise<Conn> {
  if (store instanceof SqliteStore) {
    const db = store.db;
    return {
      dialect: 'sqlite',
      schemaVersion: Math.max(...sqliteMigrations.map((m) => m.version)),
      all: async (sql, params = []) => db.prepare(sql).all(...params) as Row[],
      run: async (sql, params = []) => void (params.length ? db.prepare(sql).run(...params) : db.exec(sql)),
      columns: async (table) => (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name),
      release: () => undefined,
    };
  }
  if (store instanceof PostgresStore) {
    const client: pg.PoolClient = await store.pool.connect();
    const numbered = (sql: string) => {
      let i = 0;
      return sql.replace(/\?/g, () => `$${++i}`);
    };
    return {
      dialect: 'postgres',
      schemaVersion: Math.max(...postgresMigrations.map((m) => m.version)),
      all: async (sql, params = []) => (await client.query<Row>(numbered(sql), params)).rows,
      run: async (sql, params = []) => void (await client.query(numbered(sql), params)),
      columns: async (table) =>
        (
          await client.query<{ column_name: string }>(
            'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
            [table],
          )
        ).rows.map((r) => r.column_name),
      release: () => client.release(),
    };
  }
  throw new Error(`export/import does not support the ${store.dialect} store`);
}

/** Refuses to run against a schema this file's TABLES do not describe exactly (a column would be lost). */
async function checkSchema(conn: Conn): Promise<void> {
  for (const t of TABLES) {
    const actual = new Set(await conn.columns(t.name));
    const unknown = [...actual].filter((c) => !t.columns.includes(c));
    const missing = t.columns.filter((c) => !actual.has(c));
    if (unknown.length || missing.length) {
      throw new Error(
        `table ${t.name} does not match the transfer layout (unknown: ${unknown.join(', ') || '-'}; missing: ${missing.join(', ') || '-'}); update src/store/transfer.ts`,
      );
    }
  }
}

/** A table's rows, in primary-key order, a page at a time. */
async function* pages(conn: Conn, t: TableSpec): AsyncGenerator<Row[]> {
  const keys = t.key.join(', ');
  let after: unknown[] | null = null;
  for (;;) {
    const where: string = after ? `WHERE (${keys}) > (${t.key.map(() => '?').join(', ')})` : '';
    const rows: Row[] = await conn.all(`SELECT ${t.columns.join(', ')} FROM ${t.name} ${where} ORDER BY ${keys} LIMIT 1000`, after ?? []);
    yield rows;
    if (rows.length < 1000) return;
    const last: Row = rows[rows.length - 1]!;
    after = t.key.map((k) => last[k]);
  }
}

export interface UnservableRow {
  table: string;
  key: Record<string, unknown>;
  problem: string;
}

/**
 * `amtp doctor`: every stored row that a read could not serve — a JSON column that does not parse, or
 * a value that breaks the input rules (depth, Unicode, NUL, numbers; src/protocol/json-input.ts),
 * which rows stored before those rules existed may do. Reads every table once.
 */
export async function findUnservableRows(store: Store): Promise<UnservableRow[]> {
  const conn = await connect(store);
  const found: UnservableRow[] = [];
  try {
    await checkSchema(conn);
    for (const t of TABLES) {
      for await (const rows of pages(conn, t)) {
        for (const row of rows) {
          let problem: string | null;
          try {
            const p = findJsonProblem(neutral(t, row, conn.dialect), { maxDepth: MAX_STORED_JSON_DEPTH });
            problem = p && `${p.path} ${p.message}`;
          } catch (error) {
            problem = `does not parse: ${(error as Error).message}`;
          }
          if (problem) found.push({ table: t.name, key: Object.fromEntries(t.key.map((k) => [k, row[k]])), problem });
        }
      }
    }
  } finally {
    conn.release();
  }
  return found;
}

export interface TransferOptions {
  /** Encrypts the export (see export-crypto.ts); needed to import an encrypted one. */
  passphrase?: string;
}

/**
 * Writes every table of `store` to `file` (which must not exist yet), readable by its owner only: it
 * holds delivery and webhook secrets and every message. Returns the row counts.
 */
export async function exportStore(store: Store, file: string, options: TransferOptions = {}): Promise<Counts> {
  const encryption = options.passphrase === undefined ? null : await exportEncryptor(options.passphrase);
  const conn = await connect(store);
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  const sink: Writable = encryption?.start(out) ?? out;
  const write = async (value: unknown) => {
    if (!sink.write(`${JSON.stringify(value)}\n`)) await once(sink, 'drain');
  };
  const counts: Counts = {};
  try {
    await checkSchema(conn);
    await conn.run(conn.dialect === 'postgres' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
    await write({
      format: FORMAT,
      version: FORMAT_VERSION,
      dialect: conn.dialect,
      schema_version: conn.schemaVersion,
      exported_at: new Date().toISOString(),
    });
    for (const t of TABLES) {
      let n = 0;
      for await (const rows of pages(conn, t)) {
        for (const row of rows) await write({ t: t.name, r: neutral(t, row, conn.dialect) });
        n += rows.length;
      }
      counts[t.name] = n;
    }
    await write({ end: true, counts });
    await conn.run('COMMIT');
  } catch (error) {
    await conn.run('ROLLBACK').catch(() => undefined);
    out.destroy();
    throw error;
  } finally {
    conn.release();
  }
  await encryption?.finish(out);
  out.end();
  await once(out, 'finish');
  return counts;
}

export interface ImportReport {
  /** Rows per table, as the file declares them. */
  expected: Counts;
  /** Rows per table found in the target after the import. */
  actual: Counts;
}

/**
 * Loads an export (plain, or encrypted with `options.passphrase`) into an empty, migrated `store`;
 * throws unless every count and every audit chain checks out.
 */
export async function importStore(store: Store, file: string, options: TransferOptions = {}): Promise<ImportReport> {
  const lines = await readExportLines(file, options.passphrase);
  const conn = await connect(store);
  const seen: Counts = Object.fromEntries(TABLES.map((t) => [t.name, 0]));
  const byName = new Map(TABLES.map((t) => [t.name, t]));
  let expected: Counts | null = null;
  let header = false;
  let batch: { spec: TableSpec; rows: Row[] } | null = null;
  const flush = async () => {
    if (batch && batch.rows.length) await insert(conn, batch.spec, batch.rows);
    batch = null;
  };
  try {
    await checkSchema(conn);
    for (const t of TABLES) {
      const [{ n }] = (await conn.all(`SELECT COUNT(*) AS n FROM ${t.name}`)) as [{ n: number }];
      if (Number(n) > 0) throw new Error(`the target is not empty (${t.name} has ${n} rows); import needs a freshly created database`);
    }
    await conn.run(conn.dialect === 'postgres' ? 'BEGIN' : 'BEGIN IMMEDIATE');
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (!line.trim()) continue;
      const entry = JSON.parse(line) as {
        format?: string;
        version?: number;
        schema_version?: number;
        t?: string;
        r?: Row;
        end?: boolean;
        counts?: Counts;
      };
      if (!header) {
        if (entry.format !== FORMAT || entry.version !== FORMAT_VERSION)
          throw new Error(`${file} is not an amtp export (format ${FORMAT} v${FORMAT_VERSION})`);
        if (entry.schema_version !== conn.schemaVersion) {
          throw new Error(
            `the export has schema version ${entry.schema_version}, this build ${conn.schemaVersion}; import with the version that exported it`,
          );
        }
        header = true;
        continue;
      }
      if (expected) throw new Error(`line ${lineNo}: data after the end marker`);
      if (entry.end) {
        expected = entry.counts ?? {};
        continue;
      }
      const spec = byName.get(entry.t ?? '');
      if (!spec || !entry.r) throw new Error(`line ${lineNo}: not a row of a known table`);
      if (batch && batch.spec !== spec) await flush();
      batch ??= { spec, rows: [] };
      batch.rows.push(entry.r);
      seen[spec.name]! += 1;
      if (batch.rows.length >= 500) await flush();
    }
    await flush();
    if (!header) throw new Error(`${file} is empty`);
    if (!expected) throw new Error(`${file} is truncated: no end marker, so rows may be missing`);
    for (const t of TABLES) {
      if ((expected[t.name] ?? 0) !== seen[t.name])
        throw new Error(`${file}: ${t.name} declares ${expected[t.name] ?? 0} rows but holds ${seen[t.name]}`);
    }
    if (conn.dialect === 'postgres') {
      await conn.run("SELECT setval(pg_get_serial_sequence('messages', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages), false)");
    }
    await conn.run('COMMIT');
  } catch (error) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await lines.return(undefined);
    conn.release();
  }
  const actual = await countRows(store);
  const wrong = TABLES.filter((t) => actual[t.name] !== (expected[t.name] ?? 0));
  if (wrong.length) {
    throw new Error(
      `row counts differ after import: ${wrong.map((t) => `${t.name} ${actual[t.name]} ≠ ${expected[t.name] ?? 0}`).join(', ')}`,
    );
  }
  await verifyAuditChains(store);
  return { expected, actual };
}

export async function countRows(store: Store): Promise<Counts> {
  const conn = await connect(store);
  try {
    const counts: Counts = {};
    for (const t of TABLES) counts[t.name] = Number(((await conn.all(`SELECT COUNT(*) AS n FROM ${t.name}`)) as [{ n: number }])[0].n);
    return counts;
  } finally {
    conn.release();
  }
}

async function verifyAuditChains(store: Store): Promise<void> {
  const conn = await connect(store);
  let ids: string[];
  try {
    ids = (await conn.all('SELECT DISTINCT agent_id FROM audit_log')).map((r) => r.agent_id as string);
  } finally {
    conn.release();
  }
  for (const id of ids) {
    const broken = findBrokenLink(await store.auditAll(id));
    if (broken !== null) throw new Error(`the audit chain of ${id} is broken at seq ${broken} after import`);
  }
  const serverBroken = findBrokenServerLink(await store.serverAuditAll());
  if (serverBroken !== null) throw new Error(`the server audit chain is broken at seq ${serverBroken} after import`);
}

function neutral(t: TableSpec, row: Row, dialect: Store['dialect']): Row {
  if (dialect === 'postgres') return row;
  const out = { ...row };
  for (const c of t.json ?? []) out[c] = out[c] === null ? null : JSON.parse(out[c] as string);
  for (const c of t.bool ?? []) out[c] = out[c] === 1;
  return out;
}

async function insert(conn: Conn, t: TableSpec, rows: Row[]): Promise<void> {
  const values = rows.map((row) =>
    t.columns.map((c) => {
      const v = row[c] ?? null;
      if (t.json?.includes(c)) return v === null ? null : JSON.stringify(v);
      if (t.bool?.includes(c) && conn.dialect === 'sqlite') return v ? 1 : 0;
      return v;
    }),
  );
  const tuple = `(${t.columns.map(() => '?').join(', ')})`;
  await conn.run(`INSERT INTO ${t.name} (${t.columns.join(', ')}) VALUES ${values.map(() => tuple).join(', ')}`, values.flat());
}

/** Rows per table, aligned, for the CLI. */
export function formatCounts(expected: Counts, actual?: Counts): string {
  const width = Math.max(...TABLES.map((t) => t.name.length));
  const head = actual
    ? `${'table'.padEnd(width)}  ${'in file'.padStart(10)}  ${'imported'.padStart(10)}`
    : `${'table'.padEnd(width)}  ${'rows'.padStart(10)}`;
  const lines = TABLES.map((t) => {
    const e = String(expected[t.name] ?? 0).padStart(10);
    if (!actual) return `${t.name.padEnd(width)}  ${e}`;
    const ok = actual[t.name] === (expected[t.name] ?? 0) ? 'ok' : 'MISMATCH';
    return `${t.name.padEnd(width)}  ${e}  ${String(actual[t.name]).padStart(10)}  ${ok}`;
  });
  return `${[head, ...lines].join('\n')}\n`;
}
