/**
 * PostgreSQL backend (node-postgres pool). Applies are group-committed: those waiting when a committer
 * is free share one transaction, each in its own savepoint; COMMIT returns once the WAL is flushed
 * (synchronous_commit), so a resolved apply is durable. Several server instances may share the database.
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
import { DEFAULT_PG_POOL_SIZE } from '../../config.js';
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
/**
 * Applies per transaction. Each apply is a subtransaction; PostgreSQL tracks up to 64 per backend
 * in shared memory before other sessions' snapshots must look them up on disk (subxid overflow).
 */
const MAX_BATCH = 32;
/** Takes the agents' transaction locks in ascending order. */
const LOCK_SQL = 'SELECT pg_advisory_xact_lock(?, k) FROM (SELECT k FROM unnest(?::int[]) AS k ORDER BY k) AS sorted';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
/**
 * The operations of a send (and of audit and event appends): every row they write or update belongs
 * to agents whose advisory locks the transaction takes first, so several such applies can share a
 * transaction without two transactions ever waiting on each other's rows (no deadlock). Everything
 * else — marking read or delivered, deliveries' outcomes, settings — commits alone, as it did before
 * group commit.
 */
const SHARABLE = new Set<WriteOp['op']>([
  'insertMessage',
  'appendEvent',
  'appendAudit',
  'useNonce',
  'enqueue',
  'meetDeadlines',
  'useGrant',
  'lapseGrant',
  'countBudget',
  'flagLoop',
  'clearLoop',
]);

/**
 * Concurrent write transactions: a quarter of the pool, from 1 to 4 — the rest serves reads. A
 * transaction's time is round trips, not the database's work, so committers add throughput while the
 * database has CPU to spare: with 2, issue 22's soak (300 requests/s, half of the writes unable to
 * share a batch) left the write queue near capacity, and any slow batch backed it up for 10–20 s; with
 * 4 it drained. Sends alone batch as well with 1 as with 5 (PERFORMANCE.md).
 */
const committersFor = (poolSize: number) => Math.max(1, Math.min(4, Math.floor(poolSize / 4)));

interface Pending {
  ops: readonly WriteOp[];
  keys: number[];
  /** May share its transaction with other sharable applies (SHARABLE). */
  sharable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class PostgresStore extends SqlReads {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly broadcast: PgBroadcast;
  private readonly maxCommitters: number;

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
    const max = opts.maxConnections ?? DEFAULT_PG_POOL_SIZE;
    this.pool = new pg.Pool({ ...config, max });
    this.maxCommitters = committersFor(max);
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

  /**
   * Group commit, as the SQLite writer does: the applies waiting when a committer is free share one
   * transaction, each in its own savepoint (one failing apply does not undo the others), and nobody is
   * answered before the COMMIT — one WAL flush and one round of locks for the whole batch.
   */
  apply<const T extends readonly WriteOp[]>(ops: T): Promise<ResultsOf<T>> {
    return new Promise((resolve, reject) => {
      const keys = lockKeys(ops);
      const sharable = keys.length > 0 && ops.every((op) => SHARABLE.has(op.op));
      this.waiting.push({ ops, keys, sharable, resolve: resolve as (value: unknown) => void, reject });
      this.startCommitters();
    });
  }

  private readonly waiting: Pending[] = [];
  private committers = 0;
  /** Lock keys of the batches being committed: a committer takes only applies that would not wait on them. */
  private readonly locked = new Set<number>();

  private startCommitters(): void {
    while (this.committers < this.maxCommitters && this.waiting.length > 0) {
      this.committers++;
      void this.commitWhileWaiting().finally(() => this.committers--);
    }
  }

  private async commitWhileWaiting(): Promise<void> {
    for (let batch = this.takeBatch(); batch.length > 0; batch = this.takeBatch()) {
      let outcomes: Outcome[];
      try {
        outcomes = await this.commitBatch(batch);
      } catch (error) {
        outcomes = batch.map(() => ({ ok: false, error }));
      } finally {
        for (const p of batch) for (const k of p.keys) this.locked.delete(k);
      }
      outcomes.forEach((outcome, i) => (outcome.ok ? batch[i]!.resolve(outcome.value) : batch[i]!.reject(translateError(outcome.error))));
    }
  }

  /**
   * The waiting applies, in order, whose agents no other batch of this instance holds — up to
   * MAX_BATCH, or one apply alone when it is not `sharable`. An apply left waiting reserves its agents
   * for the rest of the scan, so no later apply on the same agent overtakes it.
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const reserved = new Set<number>();
    for (let i = 0; i < this.waiting.length && batch.length < MAX_BATCH;) {
      const p = this.waiting[i]!;
      const fits = batch.length === 0 || (p.sharable && batch[0]!.sharable);
      if (!fits || p.keys.some((k) => this.locked.has(k) || reserved.has(k))) {
        for (const k of p.keys) reserved.add(k);
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      for (const k of p.keys) this.locked.add(k);
      batch.push(p);
      if (!p.sharable) break;
    }
    return batch;
  }

  private async commitBatch(batch: readonly Pending[]): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction(batch);
      } catch (error) {
        // Deadlocks and serialization failures roll back completely, and ops carry their own ids: replay.
        // A connection found dead at BEGIN (killed, or the server restarted) ran nothing: replay on another.
        if (attempt < ATTEMPTS && isTransient(error)) continue;
        throw error;
      }
    }
  }

  /** One transaction for the batch; throws only when it committed nothing. */
  private async transaction(batch: readonly Pending[]): Promise<Outcome[]> {
    const client = await this.connect();
    let broken = false;
    try {
      await client.query('BEGIN').catch((error) => {
        broken = true;
        throw new DeadConnection(error);
      });
      // Every lock the batch needs, in one sorted round: two transactions never deadlock on them.
      const keys = [...new Set(batch.flatMap((p) => p.keys))];
      if (keys.length) await this.query(client, LOCK_SQL, [AGENT_LOCK_NS, keys]);
      const ops = batch.map((p) => p.ops);
      const outcomes = ops.length === 1 ? [await this.applyAll(client, ops[0]!)] : await this.applyEach(client, ops);
      if (batch.length === 1 && !outcomes[0]!.ok) throw outcomes[0]!.error;
      await client.query('COMMIT');
      return outcomes;
    } catch (error) {
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private async applyAll(client: pg.PoolClient, ops: readonly WriteOp[]): Promise<Outcome> {
    try {
      const results: unknown[] = [];
      for (const op of ops) results.push(await this.execute(client, op));
      return { ok: true, value: results };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** Each apply in a savepoint; a transient failure of one is retried in place, as a whole transaction would be. */
  private async applyEach(client: pg.PoolClient, batch: readonly (readonly WriteOp[])[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    await client.query('SAVEPOINT apply');
    for (const ops of batch) {
      let outcome: Outcome;
      for (let attempt = 1; ; attempt++) {
        outcome = await this.applyAll(client, ops);
        if (outcome.ok) break;
        await client.query('ROLLBACK TO SAVEPOINT apply');
        if (!(attempt < ATTEMPTS && isTransient(outcome.error))) break;
      }
      outcomes.push(outcome);
      await client.query('RELEASE SAVEPOINT apply; SAVEPOINT apply');
    }
    return outcomes;
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
      const result = await this.query(db, sql, params);
      return rows ? result.rows : (result.rowCount ?? 0);
    });
  }

  protected async rows(sql: string, params: unknown[]): Promise<Row[]> {
    try {
      return (await this.query(this.pool, sql, params)).rows;
    } catch (error) {
      throw translateError(error);
    }
  }

  /** Every query as a named prepared statement: each connection parses and plans it once, not per call. */
  private query(db: pg.Pool | pg.PoolClient, sql: string, params: unknown[]): Promise<pg.QueryResult<Row>> {
    return db.query<Row>({ name: statementName(sql), text: numberPlaceholders(sql), values: params });
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

const isTransient = (error: unknown) => {
  const code = (error as { code?: string }).code;
  return code === '40P01' || code === '40001' || error instanceof DeadConnection;
};

/** Prepared-statement names, one per distinct SQL text (the SQL layer's texts are a fixed set; past the cap, unnamed). */
const statementNames = new Map<string, string>();
function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < 2_000) statementNames.set(sql, (name = `amtp_${statementNames.size}`));
  return name;
}

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
