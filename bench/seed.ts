/**
 * Seeds a SQLite data directory (or a PostgreSQL database, given a postgres:// URL): through the
 * store, `agents` agents in a ring of mutual pairs, `messages` messages spread over them, plus
 * one reader with `unread` unread messages from a mutual peer. With `--keys` every agent publishes
 * signing and encryption keys. Prints JSON with every API key and id (and the keys).
 * Usage: tsx bench/seed.ts <dataDir|postgres-url> <agents> <messages> <unread> [--keys]
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { newMessageId, newThreadId } from '../src/core/ids.js';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../src/crypto/index.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { openConnection } from '../src/store/sqlite/connection.js';
import type { AgentRecord, Store, WriteOp } from '../src/store/types.js';

const [target, agentCount, messageCount, unreadCount] = [
  process.argv[2]!,
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const withKeys = process.argv.includes('--keys');
const sqlitePath = join(target, 'amtp.sqlite');
let store: Store;
let postgres: PostgresStore | undefined;
if (/^postgres/.test(target)) store = postgres = new PostgresStore({ url: target });
else {
  mkdirSync(target, { recursive: true });
  store = new SqliteStore({ path: sqlitePath, durability: 'relaxed' });
}
await store.migrate();
const signing = Array.from({ length: withKeys ? agentCount : 0 }, () => generateSigningKeyPair());
const encryption = Array.from({ length: withKeys ? agentCount : 0 }, () => generateEncryptionKeyPair());

const hex = () => randomBytes(16).toString('hex');
const now = new Date().toISOString();
const keyFor = (i: number) => `a2a_sk_${createHash('sha256').update(`bench-${i}`).digest('base64url')}`;
const agents: AgentRecord[] = Array.from({ length: agentCount }, (_, i) => ({
  id: `a2a_${hex()}`,
  name: `bench-${i}`,
  display_name: null,
  public_key: signing[i]?.publicKey ?? null,
  encryption_key: encryption[i]?.publicKey ?? null,
  api_key_hash: createHash('sha256').update(keyFor(i)).digest('hex'),
  delivery_secret: `ds_${hex()}`,
  key_rotation: null,
  keys_reset_at: null,
  suspended_at: null,
  created_at: now,
}));
await store.apply(agents.map((agent) => ({ op: 'createAgent', agent }) as const));

// Every agent i and i+1 form a mutual pair (a ring), so any agent can message its neighbours.
const grant = (a: AgentRecord, b: AgentRecord): WriteOp => ({
  op: 'putGrant',
  grant: { granter_id: a.id, grantee_id: b.id, scopes: ['message'], created_at: now, updated_at: now },
});
await store.apply(
  agents.flatMap((a, i) => {
    const b = agents[(i + 1) % agents.length]!;
    return [grant(a, b), grant(b, a)];
  }),
);

/**
 * Messages go straight into the table, 10,000 rows per transaction, with time-ordered ids as the
 * server makes them. Through the store (a statement per row and, on PostgreSQL, an advisory lock per
 * agent) 1,000,000 took about 6 minutes on PostgreSQL and 2¾ on SQLite; this way about 45 s and 40 s.
 * A row holds these columns, in this order; the others stay NULL.
 */
const COLUMNS = 'id, thread_id, sender_id, recipient_id, subject, body, scope, created_at, delivered_at, read_at';
type Row = (string | null)[];
const row = (from: AgentRecord, to: AgentRecord, read: boolean): Row => [
  newMessageId(),
  newThreadId(),
  from.id,
  to.id,
  'bench',
  'x'.repeat(200),
  'message',
  now,
  now,
  read ? now : null,
];
const sqlite = postgres ? undefined : openConnection(sqlitePath, 'relaxed');
function rowInserter(): (rows: Row[]) => unknown {
  if (sqlite) {
    const insert = sqlite.prepare(`INSERT INTO messages (${COLUMNS}) VALUES (${COLUMNS.replace(/\w+/g, '?')})`);
    return sqlite.transaction((rows: Row[]) => rows.forEach((r) => insert.run(r)));
  }
  const arrays = COLUMNS.split(', ').map((_, i) => `$${i + 1}::text[]`);
  const sql = `INSERT INTO messages (${COLUMNS}) SELECT * FROM unnest(${arrays.join(', ')})`;
  return (rows) =>
    postgres!.pool.query(
      sql,
      arrays.map((_, i) => rows.map((r) => r[i])),
    );
}
const insertRows = rowInserter();

const reader = agents[0]!;
const peer = agents[1]!;
const background = messageCount - unreadCount;
for (let done = 0; done < background; done += 10_000) {
  const rows: Row[] = [];
  for (let i = done; i < Math.min(background, done + 10_000); i++)
    rows.push(row(agents[1 + (i % (agentCount - 1))]!, agents[1 + ((i + 1) % (agentCount - 1))]!, true));
  await insertRows(rows);
}
await insertRows(Array.from({ length: unreadCount }, () => row(peer, reader, false)));
// Hand over a settled database, as one that grew over months would be: statistics current and the
// bulk load flushed, so the run does not measure the seed's checkpoint (on PostgreSQL a flush of
// about 1 GB after 1,000,000 rows stalled every commit for 20 s in a soak's third minute).
if (postgres) {
  await postgres.pool.query('VACUUM ANALYZE messages');
  await postgres.pool.query('CHECKPOINT');
} else {
  sqlite!.exec('ANALYZE');
  sqlite!.pragma('wal_checkpoint(TRUNCATE)');
}
sqlite?.close();
await store.close();
const keys = { signing: signing.map((k) => k.secretKey), encryption: encryption.map((k) => k.publicKey) };
process.stdout.write(
  JSON.stringify({ readerKey: keyFor(0), keys: agents.map((_, i) => keyFor(i)), ids: agents.map((a) => a.id), ...keys }) + '\n',
);
