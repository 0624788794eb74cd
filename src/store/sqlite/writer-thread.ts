/**
 * The SQLite writer thread: owns the only connection that writes, so the commit and its fsync use
 * the second core instead of blocking the event loop. Requests that arrive together share one
 * transaction (group commit); each gets its own answer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WriteOp } from '../types.js';
import { openConnection, type Durability, type SqliteMemory } from './connection.js';
import { toWireError } from './errors.js';
import { SqliteWriter } from './writer.js';

export type ToWriter =
  { type: 'apply'; id: number; ops: readonly WriteOp[] } | { type: 'pragma'; id: number; statement: string } | { type: 'close' };

/** Answers travel in arrays: one message per group commit. */
export type FromWriter = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ReturnType<typeof toWireError> };

const { path, durability, memory } = workerData as { path: string; durability: Durability; memory: SqliteMemory };
const writer = new SqliteWriter(openConnection(path, durability, memory));
const port = parentPort!;
let pending: { id: number; ops: readonly WriteOp[] }[] = [];
let scheduled = false;

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'apply':
      pending.push(message);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return;
    case 'pragma':
      try {
        port.postMessage([
          { id: message.id, ok: true, value: writer.db.pragma(message.statement, { simple: true }) },
        ] satisfies FromWriter[]);
      } catch (error) {
        port.postMessage([{ id: message.id, ok: false, error: toWireError(error) }] satisfies FromWriter[]);
      }
      return;
    case 'close':
      flush();
      writer.db.close();
      port.close();
  }
});

function flush(): void {
  scheduled = false;
  const batch = pending;
  pending = [];
  if (batch.length === 0) return;
  const outcomes = writer.commitSettled(batch.map((b) => b.ops));
  const replies = batch.map(({ id }, i): FromWriter => {
    const o = outcomes[i]!;
    return o.ok ? { id, ok: true, value: o.value } : { id, ok: false, error: toWireError(o.error) };
  });
  try {
    port.postMessage(replies);
  } catch {
    // One reply that cannot be copied back must not take the thread (and every caller) down with it.
    for (const reply of replies) {
      try {
        port.postMessage([reply]);
      } catch (error) {
        port.postMessage([{ id: reply.id, ok: false, error: toWireError(error) }] satisfies FromWriter[]);
      }
    }
  }
}
