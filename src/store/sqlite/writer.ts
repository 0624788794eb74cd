/**
 * Executes write ops on one SQLite connection. A batch of callers shares one transaction, each in its
 * own savepoint, so one failing call does not undo the others; the caller of `commit` answers nobody
 * before it returns (with synchronous=FULL, after the fsync).
 */
import type Database from 'better-sqlite3';
import type { WriteOp } from '../types.js';
import { sqliteDialect } from '../dialect.js';
import { driveSync } from '../drive.js';
import type { Row } from '../rows.js';
import { writeOp } from '../writes.js';
import { statementCache } from './connection.js';

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class SqliteWriter {
  private readonly stmt: (sql: string) => Database.Statement;

  constructor(readonly db: Database.Database) {
    this.stmt = statementCache(db);
  }

  /** One outcome per caller; when the whole transaction failed (a full disk, I/O errors), every caller fails with that error. */
  commitSettled(batch: readonly (readonly WriteOp[])[]): Outcome[] {
    try {
      return this.commit(batch);
    } catch (error) {
      return batch.map(() => ({ ok: false, error }));
    }
  }

  /** Throws when the whole transaction failed (a full disk, I/O errors): then nothing was committed. */
  private commit(batch: readonly (readonly WriteOp[])[]): Outcome[] {
    const outcomes: Outcome[] = [];
    this.db
      .transaction(() => {
        for (const ops of batch) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(() => ops.map((op) => this.execute(op)))() });
          } catch (error) {
            // Some failures make SQLite roll back the whole transaction, not just this savepoint:
            // then the entire batch fails, and nobody is told "committed".
            if (!this.db.inTransaction) throw error;
            outcomes.push({ ok: false, error });
          }
        }
      })
      .immediate();
    return outcomes;
  }

  private execute(op: WriteOp): unknown {
    return driveSync(writeOp(sqliteDialect, op), ({ sql, params, rows }) =>
      rows ? (this.stmt(sql).all(...params) as Row[]) : this.stmt(sql).run(...params).changes,
    );
  }
}
