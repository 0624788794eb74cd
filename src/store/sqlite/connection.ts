import Database from 'better-sqlite3';

/**
 * full: every commit is fsync'ed (synchronous=FULL in WAL mode) before anyone is answered — survives
 * power loss, and no reader sees a commit before it is on disk. relaxed (synchronous=NORMAL): no
 * fsync per commit — survives a process crash, may lose the last commits on power loss.
 */
export type Durability = 'full' | 'relaxed';

/**
 * SQLite's memory, per connection (the store has two: the event loop's reader and the writer thread).
 * The page cache is private heap outside V8 (counted in RSS, not in the JS heap); the memory map
 * shares the file's pages with the OS page cache (counted in RSS as they are touched, given back
 * under memory pressure). 0 MiB of mmap: plain reads instead.
 */
export interface SqliteMemory {
  cacheMiB: number;
  mmapMiB: number;
}

export const DEFAULT_SQLITE_MEMORY: SqliteMemory = { cacheMiB: 32, mmapMiB: 128 };

/** One connection with the pragmas every connection to the database needs. */
export function openConnection(
  path: string,
  durability: Durability = 'full',
  memory: SqliteMemory = DEFAULT_SQLITE_MEMORY,
): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'relaxed' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${memory.cacheMiB * 1024}`);
  db.pragma(`mmap_size = ${memory.mmapMiB * 1024 * 1024}`);
  // What PRAGMA optimize's ANALYZE reads per index: enough for the planner, milliseconds at any size.
  db.pragma('analysis_limit = 1000');
  return db;
}

/** Prepared statements of one connection, prepared once per SQL text. */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
}
