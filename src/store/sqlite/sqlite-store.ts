/**
 * SQLite backend (better-sqlite3, WAL). Reads run on the event loop's own connection; writes go to a
 * writer thread with a connection of its own (src/store/sqlite/writer-thread.ts), so a commit and its
 * fsync run on the other core. Writes are group-committed: every `apply` issued in the same event-loop
 * turn shares one transaction, each in its own savepoint, and nobody is answered before the fsync.
 * An in-memory database (tests) cannot be shared between threads: it writes inline.
 */
import { closeSync, openSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { StoreError, type ResultsOf, type WriteOp } from '../types.js';
import { DEFAULT_SQLITE_MEMORY, openConnection, statementCache, type Durability, type SqliteMemory } from './connection.js';
import { assertSchemaKnown } from '../migration.js';
import { sqliteDialect } from '../dialect.js';
import { SqlReads } from '../reads.js';
import type { Row } from '../rows.js';
import { sqliteMigrations } from './migrations.js';
import { fromWireError, translateError } from './errors.js';
import type { FromWriter, ToWriter } from './writer-thread.js';
import { SqliteWriter } from './writer.js';

export type { Durability } from './connection.js';

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** Default full; see Durability. */
  durability?: Durability;
  /** Page cache and memory map per connection; see SqliteMemory. */
  memory?: SqliteMemory;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The worker's entry: writer-thread.js when built; from source (tests, benchmarks) the .ts through tsx. */
const WRITER_ENTRY = new URL(`./writer-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

function startWriter(workerData: { path: string; durability: Durability; memory: SqliteMemory }): Worker {
  if (!WRITER_ENTRY.pathname.endsWith('.ts')) return new Worker(WRITER_ENTRY, { workerData });
  // Worker threads do not inherit tsx's loader hooks: register them in the thread first.
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WRITER_ENTRY.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** Every table, not only those this connection queried (0x10000); ANALYZE where it helps (0x02). */
const OPTIMIZE = 'optimize = 0x10002';

export class SqliteStore extends SqlReads {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  private pending: { ops: readonly WriteOp[]; waiter: Waiter }[] = [];
  private flushScheduled = false;
  private readonly inline: SqliteWriter | null;
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 0;
  private drained?: () => void;

  private readonly stmt: (sql: string) => Database.Statement;

  constructor(private readonly opts: SqliteStoreOptions) {
    super(sqliteDialect);
    this.db = openConnection(opts.path, opts.durability, opts.memory);
    this.stmt = statementCache(this.db);
    this.inline = this.db.memory ? new SqliteWriter(this.db) : null;
  }

  async migrate(): Promise<void> {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const applied = new Set(this.db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    assertSchemaKnown(applied, sqliteMigrations);
    for (const m of sqliteMigrations) {
      if (applied.has(m.version)) continue;
      this.db
        .transaction(() => {
          this.db.exec(m.sql);
          this.db
            .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(m.version, m.name, new Date().toISOString());
        })
        .immediate();
    }
    // Fresh planner statistics before the first query (the writer thread is not running yet).
    this.db.pragma(OPTIMIZE);
  }

  /**
   * Refreshes the planner's statistics where tables changed enough (PRAGMA optimize, bounded by
   * analysis_limit: milliseconds), on the writer's connection, which holds the write lock ANALYZE
   * needs; the reader picks the new statistics up with the schema change ANALYZE makes.
   */
  async optimize(): Promise<void> {
    if (this.inline) this.db.pragma(OPTIMIZE);
    else await this.writerPragma(OPTIMIZE);
  }

  async close(): Promise<void> {
    if (this.pending.length) this.flush();
    if (this.worker) {
      const worker = this.worker;
      if (this.waiting.size) await new Promise<void>((done) => (this.drained = done));
      const exited = new Promise((done) => worker.once('exit', done));
      worker.postMessage({ type: 'close' } satisfies ToWriter);
      await exited;
    }
    if (this.db.open) this.db.close();
  }

  apply<const T extends readonly WriteOp[]>(ops: T): Promise<ResultsOf<T>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, waiter: { resolve: resolve as (v: unknown) => void, reject } });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs a pragma on every connection (the writer's answer is returned), e.g. max_page_count. */
  async pragma(statement: string): Promise<unknown> {
    const local = this.db.pragma(statement, { simple: true });
    if (this.inline) return local;
    return this.writerPragma(statement);
  }

  private writerPragma(statement: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      this.waiting.set(id, { resolve, reject });
      this.writer().postMessage({ type: 'pragma', id, statement } satisfies ToWriter);
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (this.inline) return this.commitInline(this.inline, batch);
    const worker = this.writer();
    for (const { ops, waiter } of batch) {
      const id = ++this.nextId;
      try {
        worker.postMessage({ type: 'apply', id, ops } satisfies ToWriter);
        this.waiting.set(id, waiter);
      } catch (error) {
        // Ops that cannot be copied to the writer (a value the input rules should have refused)
        // fail their own caller only; this runs in a setImmediate, where a throw would end the process.
        waiter.reject(error);
      }
    }
  }

  private commitInline(writer: SqliteWriter, batch: { ops: readonly WriteOp[]; waiter: Waiter }[]): void {
    const outcomes = writer.commitSettled(batch.map((b) => b.ops));
    batch.forEach(({ waiter }, i) => {
      const o = outcomes[i]!;
      if (o.ok) waiter.resolve(o.value);
      else waiter.reject(translateError(o.error));
    });
  }

  private writer(): Worker {
    if (this.worker) return this.worker;
    const worker = startWriter({
      path: this.opts.path,
      durability: this.opts.durability ?? 'full',
      memory: this.opts.memory ?? DEFAULT_SQLITE_MEMORY,
    });
    worker.on('message', (replies: FromWriter[]) => {
      for (const reply of replies) {
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        if (reply.ok) waiter?.resolve(reply.value);
        else waiter?.reject(fromWireError(reply.error));
      }
      if (this.waiting.size === 0) this.drained?.();
    });
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      // A writer that died (not closed) fails what it held; the next write starts a new one.
      if (this.worker === worker) this.worker = null;
      const lost = new StoreError('unavailable', 'the SQLite writer thread stopped');
      for (const waiter of this.waiting.values()) waiter.reject(lost);
      this.waiting.clear();
      this.drained?.();
    });
    return (this.worker = worker);
  }

  protected async rows(sql: string, params: unknown[]): Promise<Row[]> {
    return this.stmt(sql).all(...params) as Row[];
  }

  /**
   * Consistent online copy of the database file (SQLite's backup API) into a new file readable by its
   * owner only (it holds delivery and webhook secrets): created 0600 before SQLite writes to it.
   */
  async backup(destination: string): Promise<void> {
    closeSync(openSync(destination, 'wx', 0o600));
    await this.db.backup(destination);
  }
}
