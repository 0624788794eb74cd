/**
 * PostgreSQL backend (node-postgres pool). Every `apply` is one transaction; COMMIT returns once the
 * WAL is flushed (synchronous_commit), so a resolved apply is durable. Several server instances may
 * share the database.
 *
 * SQLite serializes all writers; here concurrent transactions must not break what that gave for free.
 * Before its first operation, a transaction takes a per-agent advisory lock (sorted, so two
 * transactions never deadlock on them) for every agent whose audit chain or event log it extends and
 * for both ends of every message it inserts. Under those locks, audit and event sequences are
 * MAX+1 without forks, and message seqs become visible to each mailbox in increasing order, so cursors
 * never skip a message that commits late.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { SERVER_AUDIT_SUBJECT } from '../../protocol/audit-chain.js';
import { assertSchemaKnown, type Migration } from '../migration.js';
import { numberPlaceholders, postgresDialect } from '../dialect.js';
import { driveAsync } from '../drive.js';
import { SqlReads } from '../reads.js';
import type { Row } from '../rows.js';
import { writeOp } from '../writes.js';
import { StoreError, type ResultsOf, type WriteOp } from '../types.js';
import { PgBroadcast } from './broadcast.js';
import { postgresMigrations } from './migrations.js';

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// connection URL. */
  url: string;
  /** Pool size per instance. */
  maxConnections?: number;
}

/** pg_advisory_lock key held while migrating ('amtp' in ASCII). */
const MIGRATION_LOCK = 0x616d7470;
/** Namespace (first key) of the per-agent transaction locks. */
const AGENT_LOCK_NS = 0x616d7461;
const ATTEMPTS = 3;

export class PostgresStore extends SqlReads {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly broadcast: PgBroadcast;

  constructor(opts: PostgresStoreOptions) {
    super(postgresDialect);
    const config: pg.ClientConfig = {
      connectionString: opts.url,
      // BIGINT (seqs, COUNT) as JS numbers: they stay far below 2^53.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === 20 ? Number : (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as never,
      },
    };
    this.pool = new pg.Pool({ ...config, max: opts.maxConnections ?? 10 });
    // An idle connection that dies is dropped by the pool; without a listener the error would crash the process.
    this.pool.on('error', () => undefined);
    this.broadcast = new PgBroadcast(this.pool, config);
  }

  /** Autovacuum's ANALYZE keeps PostgreSQL's statistics fresh (docs/SELF-HOSTING.md): nothing to do. */
  optimize(): Promise<void> {
    return Promise.resolve();
  }

  /** Applies pending migrations. Instances starting together queue on an advisory lock; one migrates. */
  async migrate(): Promise<void> {
    const client = await this.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
        );
        const applied = new Set(
          (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
        );
        assertSchemaKnown(applied, postgresMigrations);
        for (const m of postgresMigrations) if (!applied.has(m.version)) await runMigration(client, m);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } catch (error) {
      throw translateError(error);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.broadcast.close();
    await this.pool.end();
  }

  async apply<const T extends readonly WriteOp[]>(ops: T): Promise<ResultsOf<T>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.transaction(ops)) as ResultsOf<T>;
      } catch (error) {
        // Deadlocks and serialization failures roll back completely, and ops carry their own ids: replay.
        // A connection found dead at BEGIN (killed, or the server restarted) ran nothing: replay on another.
        const code = (error as { code?: string }).code;
        if (attempt < ATTEMPTS && (code === '40P01' || code === '40001' || error instanceof DeadConnection)) continue;
        throw translateError(error);
      }
    }
  }

  private async transaction(ops: readonly WriteOp[]): Promise<unknown[]> {
    const client = await this.connect();
    let broken = false;
    try {
      await client.query('BEGIN').catch((error) => {
        broken = true;
        throw new DeadConnection(error);
      });
      for (const key of lockKeys(ops)) await client.query('SELECT pg_advisory_xact_lock($1, $2)', [AGENT_LOCK_NS, key]);
      const results: unknown[] = [];
      for (const op of ops) results.push(await this.execute(client, op));
      await client.query('COMMIT');
      return results;
    } catch (error) {
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      const client = await this.pool.connect();
      // A checked-out client whose connection dies emits 'error' outside any query; the pool only
      // listens while the client is idle. Without this the process would crash on a server restart.
      if (!client.listenerCount('error')) client.on('error', () => undefined);
      return client;
    } catch (error) {
      throw translateError(error);
    }
  }

  private execute(db: pg.PoolClient, op: WriteOp): Promise<unknown> {
    return driveAsync(writeOp(postgresDialect, op), async ({ sql, params, rows }) => {
      const result = await db.query(numberPlaceholders(sql), params);
      return rows ? result.rows : (result.rowCount ?? 0);
    });
  }

  protected async rows(sql: string, params: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(numberPlaceholders(sql), params)).rows;
    } catch (error) {
      throw translateError(error);
    }
  }
}

async function runMigration(client: pg.PoolClient, m: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(m.sql);
    await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
      m.version,
      m.name,
      new Date().toISOString(),
    ]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The agents a transaction must lock, as sorted, distinct advisory-lock keys. */
function lockKeys(ops: readonly WriteOp[]): number[] {
  const agents = new Set<string>();
  for (const op of ops) {
    if (op.op === 'appendAudit') agents.add(op.entry.agent_id);
    else if (op.op === 'appendEvent') agents.add(op.event.agent_id);
    // Conditional operations that append an event when they apply (issue 18).
    else if (op.op === 'settleDeadline' || op.op === 'setProcessed') agents.add(op.event.agent_id);
    else if (op.op === 'insertMessage') agents.add(op.message.sender_id).add(op.message.recipient_id);
    else if (op.op === 'deleteAgent') agents.add(op.id);
    else if (op.op === 'appendServerAudit') agents.add(SERVER_AUDIT_SUBJECT);
  }
  const keys = [...agents].map((id) => createHash('sha256').update(id).digest().readInt32BE(0));
  return [...new Set(keys)].sort((a, b) => a - b);
}

const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** BEGIN failed: the connection was dead before anything ran, so the transaction may be replayed. */
class DeadConnection extends Error {
  constructor(override readonly cause: unknown) {
    super((cause as Error)?.message ?? 'dead connection');
  }
}

export function translateError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  if (error instanceof DeadConnection) return translateError(error.cause);
  const e = error as { code?: string; constraint?: string; message?: string };
  const code = e.code ?? '';
  if (code === '23505') {
    if (e.constraint === 'agents_name_unique') return new StoreError('name_taken', 'name already taken', error);
    return new StoreError('duplicate', e.message ?? 'duplicate', error);
  }
  // 08: connection exceptions; 53: insufficient resources (disk, memory, too many connections);
  // 57P0x: the server is shutting down or restarting; 40: a conflict that outlived our retries.
  if (
    /^(08|53|57P0|40)/.test(code) ||
    UNAVAILABLE_NODE_CODES.has(code) ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
      e.message ?? '',
    )
  ) {
    return new StoreError('unavailable', `storage unavailable (${code || e.message})`, error);
  }
  return error;
}
