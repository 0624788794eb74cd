/**
 * Seeds a SQLite data directory (or a PostgreSQL database, given a postgres:// URL) straight through
 * the store: `agents` agents in a ring of mutual pairs, `messages` messages spread over them, plus
 * one reader with `unread` unread messages from a mutual peer. With `--keys` every agent publishes
 * signing and encryption keys. Prints JSON with every API key and id (and the keys).
 * Usage: tsx bench/seed.ts <dataDir|postgres-url> <agents> <messages> <unread> [--keys]
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../src/crypto/index.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AgentRecord, Store, WriteOp } from '../src/store/types.js';

const [target, agentCount, messageCount, unreadCount] = [
  process.argv[2]!,
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const withKeys = process.argv.includes('--keys');
let store: Store;
if (/^postgres/.test(target)) store = new PostgresStore({ url: target });
else {
  mkdirSync(target, { recursive: true });
  store = new SqliteStore({ path: join(target, 'amtp.sqlite'), durability: 'relaxed' });
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

const message = (from: AgentRecord, to: AgentRecord, read: boolean): WriteOp => ({
  op: 'insertMessage',
  message: {
    id: `msg_${hex()}`,
    thread_id: `thr_${hex()}`,
    sender_id: from.id,
    recipient_id: to.id,
    subject: 'bench',
    body: 'x'.repeat(200),
    scope: 'message',
    intent: null,
    payload: null,
    reply_to_id: null,
    client_id: null,
    sealed: null,
    sealed_for_sender: null,
    ed25519_signature: null,
    sig_nonce: null,
    signed_at: null,
    created_at: now,
    delivered_at: now,
    read_at: read ? now : null,
  },
});
const reader = agents[0]!;
const peer = agents[1]!;
const background = messageCount - unreadCount;
for (let done = 0; done < background; done += 5000) {
  const batch: WriteOp[] = [];
  for (let i = done; i < Math.min(background, done + 5000); i++) {
    const from = agents[1 + (i % (agentCount - 1))]!;
    batch.push(message(from, agents[1 + ((i + 1) % (agentCount - 1))]!, true));
  }
  await store.apply(batch);
}
await store.apply(Array.from({ length: unreadCount }, () => message(peer, reader, false)));
await store.close();
const keys = { signing: signing.map((k) => k.secretKey), encryption: encryption.map((k) => k.publicKey) };
process.stdout.write(
  JSON.stringify({ readerKey: keyFor(0), keys: agents.map((_, i) => keyFor(i)), ids: agents.map((a) => a.id), ...keys }) + '\n',
);
