import Database from 'better-sqlite3';

/**
 * full: every commit is fsync'ed (synchronous=FULL in WAL mode) before anyone is answered — survives
 * power loss, and no reader sees a commit before it is on disk. relaxed (synchronous=NORMAL): no
 * fsync per commit — survives a process crash, may lose the last commits on power loss.
 */
export type Durability = 'full' | 'relaxed';

/** One connection with the pragmas every connection to the database needs. */
export function openConnection(path: string, durability: Durability = 'full'): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'relaxed' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');
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
