/**
 * What SQLite itself can do on this disk, the row the durable send is judged against (issue 16): one
 * thread inserting message rows like an unsigned send's into a fresh database built by the project's
 * own migrations (the real schema, every index), WAL, synchronous=FULL (AMTP_DURABILITY=full), 32 rows
 * per transaction. No HTTP, authentication, consent check or event: only the inserts and their fsyncs.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { newAgentId, newMessageId, newThreadId } from '../src/core/ids.js';
import { openConnection } from '../src/store/sqlite/connection.js';
import { sqliteMigrations } from '../src/store/sqlite/migrations.js';
import { percentile, type Figure } from './lib.js';

export const RAW_SQLITE = 'raw better-sqlite3 insert, batch 32';
const BATCH = 32;
const AGENTS = 8;

export function rawSqliteInserts(dir: string, seconds: number): Figure {
  const db = openConnection(join(dir, 'raw.sqlite'), 'full');
  try {
    for (const m of sqliteMigrations) db.exec(m.sql);
    const agents = Array.from({ length: AGENTS }, newAgentId);
    const addAgent = db.prepare('INSERT INTO agents (id, name, api_key_hash, created_at) VALUES (?, ?, ?, ?)');
    agents.forEach((id, i) => addAgent.run(id, `raw-${i}`, `hash-${i}`, new Date().toISOString()));
    const insert = db.prepare(
      `INSERT INTO messages (id, thread_id, sender_id, recipient_id, subject, body, scope, created_at)
       VALUES (?, ?, ?, ?, 'bench', ?, 'message', ?)`,
    );
    const body = 'x'.repeat(200);
    let rows = 0;
    const batch = db.transaction(() => {
      for (let i = 0; i < BATCH; i++, rows++)
        insert.run(newMessageId(), newThreadId(), agents[rows % AGENTS], agents[(rows + 1) % AGENTS], body, new Date().toISOString());
    });
    const commits: number[] = [];
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      const begin = performance.now();
      batch();
      commits.push(performance.now() - begin);
    }
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      name: RAW_SQLITE,
      rps: rows / ((performance.now() - started) / 1000),
      p50: round(percentile(commits, 0.5)),
      p99: round(percentile(commits, 0.99)),
      note: 'rows/s, one thread, WAL, synchronous=FULL; latency per commit of 32',
    };
  } finally {
    db.close();
  }
}
