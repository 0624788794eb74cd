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
import { AUDIT_GENESIS, SERVER_AUDIT_SUBJECT, auditHash, chainServerAudit } from '../../protocol/audit-chain.js';
import { assertSchemaKnown, type Migration } from '../migration.js';
import {
  DELETE_AGENT_TABLES,
  StoreError,
  type AgentRecord,
  type AuditDraft,
  type AuditRecord,
  type BlockRecord,
  type CapabilitiesRecord,
  type ConversationRow,
  type DeliveryRecord,
  type EventRecord,
  type GrantRecord,
  type InboxOptions,
  type InviteRecord,
  type DeliveryStats,
  DELIVERY_STATS_SQL,
  type ServerAuditDraft,
  type ServerAuditRecord,
  type MessageRecord,
  type RequestRecord,
  type ResultsOf,
  type Store,
  type WebhookRecord,
  type WriteOp,
} from '../types.js';
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

type Row = Record<string, any>;
type Db = pg.Pool | pg.PoolClient;

const json = (value: unknown) => JSON.stringify(value);

export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly broadcast: PgBroadcast;

  constructor(opts: PostgresStoreOptions) {
    const config: pg.ClientConfig = {
      connectionString: opts.url,
      // BIGINT (seqs, COUNT) as JS numbers: they stay far below 2^53.
      types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format))) as never },
    };
    this.pool = new pg.Pool({ ...config, max: opts.maxConnections ?? 10 });
    // An idle connection that dies is dropped by the pool; without a listener the error would crash the process.
    this.pool.on('error', () => undefined);
    this.broadcast = new PgBroadcast(this.pool, config);
  }

  /** Applies pending migrations. Instances starting together queue on an advisory lock; one migrates. */
  async migrate(): Promise<void> {
    const client = await this.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
        const applied = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r) => r.version as number));
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

  private async execute(db: pg.PoolClient, op: WriteOp): Promise<unknown> {
    const run = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rowCount ?? 0;
    switch (op.op) {
      case 'createAgent': {
        const a = op.agent;
        await run(
          `INSERT INTO agents (id, name, display_name, public_key, encryption_key, api_key_hash, delivery_secret, key_rotation, keys_reset_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [a.id, a.name, a.display_name, a.public_key, a.encryption_key, a.api_key_hash, a.delivery_secret, a.key_rotation === null ? null : json(a.key_rotation), a.keys_reset_at, a.created_at],
        );
        return undefined;
      }
      case 'updateAgent': {
        const allowed = new Set(['api_key_hash', 'display_name', 'public_key', 'encryption_key', 'delivery_secret', 'key_rotation', 'keys_reset_at', 'suspended_at']);
        const entries = Object.entries(op.patch)
          .filter(([k, v]) => v !== undefined && allowed.has(k))
          .map(([k, v]) => [k, k === 'key_rotation' && v !== null ? json(v) : v] as const);
        if (entries.length === 0) return false;
        const sets = entries.map(([k], i) => `${k} = $${i + 2}`).join(', ');
        return (await run(`UPDATE agents SET ${sets} WHERE id = $1`, [op.id, ...entries.map(([, v]) => v)])) > 0;
      }
      case 'deleteAgent':
        for (const [table, where] of DELETE_AGENT_TABLES) await run(`DELETE FROM ${table} WHERE ${where.replaceAll('@id', '$1')}`, [op.id]);
        return (await run('DELETE FROM agents WHERE id = $1', [op.id])) > 0;
      case 'useNonce':
        await run('INSERT INTO sig_nonces (sender_id, nonce, expires_at) VALUES ($1, $2, $3)', [op.sender_id, op.nonce, op.expires_at]);
        return undefined;
      case 'pruneNonces':
        return run('DELETE FROM sig_nonces WHERE expires_at < $1', [op.before]);
      case 'putGrant': {
        const g = op.grant;
        await run(
          `INSERT INTO grants (granter_id, grantee_id, scopes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (granter_id, grantee_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
          [g.granter_id, g.grantee_id, json(g.scopes), g.created_at, g.updated_at],
        );
        return undefined;
      }
      case 'deleteGrant':
        return (await run('DELETE FROM grants WHERE granter_id = $1 AND grantee_id = $2', [op.granter_id, op.grantee_id])) > 0;
      case 'putBlock':
        await run('INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          op.block.blocker_id,
          op.block.blocked_id,
          op.block.created_at,
        ]);
        return undefined;
      case 'deleteBlock':
        return (await run('DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2', [op.blocker_id, op.blocked_id])) > 0;
      case 'createRequest': {
        const r = op.request;
        await run(
          'INSERT INTO contact_requests (id, from_id, to_id, note, scopes, status, created_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [r.id, r.from_id, r.to_id, r.note, json(r.scopes), r.status, r.created_at, r.decided_at],
        );
        return undefined;
      }
      case 'decideRequest':
        return (await run("UPDATE contact_requests SET status = $1, decided_at = $2 WHERE id = $3 AND status = 'pending'", [op.status, op.at, op.id])) > 0;
      case 'insertMessage':
        return this.insertMessage(db, op.message);
      case 'markDelivered':
        if (op.ids.length === 0) return 0;
        return run('UPDATE messages SET delivered_at = $1 WHERE recipient_id = $2 AND delivered_at IS NULL AND id = ANY($3::text[])', [
          op.at,
          op.recipient_id,
          op.ids,
        ]);
      case 'markRead': {
        let sql = 'UPDATE messages SET read_at = $1, delivered_at = COALESCE(delivered_at, $1) WHERE recipient_id = $2 AND read_at IS NULL';
        const params: unknown[] = [op.at, op.recipient_id];
        if (op.ids) {
          params.push(op.ids);
          sql += ` AND id = ANY($${params.length}::text[])`;
        }
        if (op.thread_id) {
          params.push(op.thread_id);
          sql += ` AND thread_id = $${params.length}`;
        }
        return run(sql, params);
      }
      case 'setCapabilities':
        await run(
          `INSERT INTO capabilities (agent_id, capabilities, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (agent_id) DO UPDATE SET capabilities = excluded.capabilities, updated_at = excluded.updated_at`,
          [op.record.agent_id, json(op.record.capabilities), op.record.updated_at],
        );
        return undefined;
      case 'appendAudit':
        return this.appendAudit(db, op.entry);
      case 'createInvite':
        await run('INSERT INTO invites (token_hash, created_at, expires_at) VALUES ($1, $2, $3)', [op.token_hash, op.created_at, op.expires_at]);
        return undefined;
      case 'consumeInvite': {
        const changed = await run(
          'UPDATE invites SET used_at = $1, used_by = $2 WHERE token_hash = $3 AND used_at IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)',
          [op.at, op.agent_id, op.token_hash],
        );
        if (changed === 0) throw new StoreError('invite_unavailable', 'invite token unknown, used, revoked or expired');
        return undefined;
      }
      case 'revokeInvite':
        return (await run('UPDATE invites SET revoked_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL', [op.at, op.token_hash])) > 0;
      case 'appendServerAudit':
        return this.appendServerAudit(db, op.entry);
      case 'pruneMessages': {
        let removed = 0;
        if (op.olderThan) removed += await run('DELETE FROM messages WHERE created_at < $1', [op.olderThan]);
        if (op.keepPerMailbox) {
          removed += await run(
            `DELETE FROM messages WHERE seq IN (SELECT seq FROM (
               SELECT seq, ROW_NUMBER() OVER (PARTITION BY recipient_id ORDER BY seq DESC) AS rn FROM messages) ranked WHERE rn > $1)`,
            [op.keepPerMailbox],
          );
        }
        return removed;
      }
      case 'appendEvent':
        return this.appendEvent(db, op.event);
      case 'pruneEvents':
        await run("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $1", [op.olderThan]);
        return run(
          "DELETE FROM events WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = events.id AND d.status = 'pending')",
          [op.olderThan],
        );
      case 'putWebhook': {
        const w = op.webhook;
        await run(
          `INSERT INTO webhooks (agent_id, url, secret, events, enabled, disabled_reason, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (agent_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events,
             enabled = excluded.enabled, disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at`,
          [w.agent_id, w.url, w.secret, json(w.events), w.enabled, w.disabled_reason, w.created_at, w.updated_at],
        );
        return undefined;
      }
      case 'deleteWebhook':
        await run("DELETE FROM webhook_deliveries WHERE agent_id = $1 AND status = 'pending'", [op.agent_id]);
        return (await run('DELETE FROM webhooks WHERE agent_id = $1', [op.agent_id])) > 0;
      case 'disableWebhook':
        return (
          (await run('UPDATE webhooks SET enabled = false, disabled_reason = $1, updated_at = $2 WHERE agent_id = $3 AND enabled', [
            op.reason,
            op.at,
            op.agent_id,
          ])) > 0
        );
      case 'claimDeliveries': {
        // SKIP LOCKED: instances claiming at the same time never hand out the same delivery.
        const { rows } = await db.query(
          `UPDATE webhook_deliveries SET lease_until = $2 WHERE id IN (
             SELECT d.id FROM webhooks w
             JOIN webhook_deliveries d ON d.agent_id = w.agent_id
               AND d.event_seq = (SELECT MIN(event_seq) FROM webhook_deliveries p WHERE p.agent_id = w.agent_id AND p.status = 'pending')
             WHERE w.enabled AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until < $1) AND ($4::text IS NULL OR w.agent_id = $4)
             ORDER BY d.next_attempt_at LIMIT $3
             FOR UPDATE OF d SKIP LOCKED)
           RETURNING *`,
          [op.now, op.lease_until, op.limit, op.agent_id ?? null],
        );
        return (rows as DeliveryRecord[]).sort((x, y) => (x.next_attempt_at < y.next_attempt_at ? -1 : x.next_attempt_at > y.next_attempt_at ? 1 : 0));
      }
      case 'recordDelivery':
        await run(
          `UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, last_status = $4, last_error = $5, lease_until = NULL, updated_at = $6
           WHERE id = $7`,
          [op.status, op.attempts, op.next_attempt_at, op.last_status, op.last_error, op.at, op.id],
        );
        return undefined;
      case 'redeliver':
        return (
          (await run(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL, updated_at = $1 WHERE id = $2 AND agent_id = $3 AND status <> 'pending'",
            [op.at, op.id, op.agent_id],
          )) > 0
        );
    }
  }

  private async insertMessage(db: pg.PoolClient, m: Omit<MessageRecord, 'seq'>): Promise<MessageRecord> {
    const { rows } = await db.query(
      `INSERT INTO messages (id, thread_id, sender_id, recipient_id, subject, body, scope, intent, payload, reply_to_id, client_id, created_at, delivered_at, read_at,
         sealed, sealed_for_sender, ed25519_signature, sig_nonce, signed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
       ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
       RETURNING seq`,
      [
        m.id,
        m.thread_id,
        m.sender_id,
        m.recipient_id,
        m.subject,
        m.body,
        m.scope,
        m.intent,
        m.payload === undefined || m.payload === null ? null : json(m.payload),
        m.reply_to_id,
        m.client_id,
        m.created_at,
        m.delivered_at,
        m.read_at,
        m.sealed === null ? null : json(m.sealed),
        m.sealed_for_sender === null ? null : json(m.sealed_for_sender),
        m.ed25519_signature,
        m.sig_nonce,
        m.signed_at,
      ],
    );
    // The sender already used this client_id: the caller answers with that message (messageByClientId).
    if (rows.length === 0) throw new StoreError('duplicate', 'client_id already used by this sender');
    return { ...m, seq: rows[0].seq };
  }

  private async appendAudit(db: pg.PoolClient, entry: AuditDraft): Promise<AuditRecord> {
    const last = (await db.query('SELECT seq, hash FROM audit_log WHERE agent_id = $1 ORDER BY seq DESC LIMIT 1', [entry.agent_id])).rows[0];
    const seq = ((last?.seq as number | undefined) ?? 0) + 1;
    const prev_hash = (last?.hash as string | undefined) ?? AUDIT_GENESIS;
    const hash = auditHash({ ...entry, seq, prev_hash });
    await db.query('INSERT INTO audit_log (agent_id, seq, at, action, target_id, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      entry.agent_id,
      seq,
      entry.at,
      entry.action,
      entry.target_id,
      json(entry.details),
      prev_hash,
      hash,
    ]);
    return { ...entry, seq, prev_hash, hash };
  }

  private async appendServerAudit(db: pg.PoolClient, entry: ServerAuditDraft): Promise<ServerAuditRecord> {
    const last = (await db.query('SELECT seq, hash FROM server_audit ORDER BY seq DESC LIMIT 1')).rows[0] as { seq: number; hash: string } | undefined;
    const r = chainServerAudit(entry, last);
    await db.query('INSERT INTO server_audit (seq, at, action, target_id, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      r.seq,
      r.at,
      r.action,
      r.target_id,
      json(r.details),
      r.prev_hash,
      r.hash,
    ]);
    return r;
  }

  private async appendEvent(db: pg.PoolClient, event: Omit<EventRecord, 'seq'>): Promise<EventRecord> {
    const seq = ((await db.query('SELECT MAX(seq) AS seq FROM events WHERE agent_id = $1', [event.agent_id])).rows[0].seq ?? 0) + 1;
    await db.query('INSERT INTO events (agent_id, seq, id, type, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      event.agent_id,
      seq,
      event.id,
      event.type,
      json(event.data),
      event.created_at,
    ]);
    await db.query(
      `INSERT INTO webhook_deliveries (id, agent_id, event_seq, status, next_attempt_at, created_at, updated_at)
       SELECT $1, agent_id, $2, 'pending', $3, $3, $3 FROM webhooks w
       WHERE w.agent_id = $4 AND w.enabled AND w.events @> jsonb_build_array($5::text)`,
      [event.id, seq, event.created_at, event.agent_id, event.type],
    );
    return { ...event, seq };
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────────────
  private async rows(sql: string, params: unknown[] = [], db: Db = this.pool): Promise<Row[]> {
    try {
      return (await db.query(sql, params)).rows;
    } catch (error) {
      throw translateError(error);
    }
  }
  private async one(sql: string, params: unknown[]): Promise<Row | null> {
    return (await this.rows(sql, params))[0] ?? null;
  }

  async agentById(id: string) {
    return (await this.one('SELECT * FROM agents WHERE id = $1', [id])) as AgentRecord | null;
  }
  async agentByName(name: string) {
    return (await this.one('SELECT * FROM agents WHERE name = $1', [name])) as AgentRecord | null;
  }
  async agentByKeyHash(hash: string) {
    return (await this.one('SELECT * FROM agents WHERE api_key_hash = $1', [hash])) as AgentRecord | null;
  }
  async agentsByIds(ids: string[]) {
    if (ids.length === 0) return [];
    return (await this.rows('SELECT * FROM agents WHERE id = ANY($1::text[])', [ids])) as AgentRecord[];
  }

  async grant(granter_id: string, grantee_id: string) {
    return (await this.one('SELECT * FROM grants WHERE granter_id = $1 AND grantee_id = $2', [granter_id, grantee_id])) as GrantRecord | null;
  }
  async grantsInvolving(agent_id: string) {
    return (await this.rows('SELECT * FROM grants WHERE granter_id = $1 OR grantee_id = $1', [agent_id])) as GrantRecord[];
  }
  async isBlocked(blocker_id: string, blocked_id: string) {
    return (await this.one('SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2', [blocker_id, blocked_id])) !== null;
  }
  async blocksInvolving(agent_id: string) {
    return (await this.rows('SELECT * FROM blocks WHERE blocker_id = $1 OR blocked_id = $1', [agent_id])) as BlockRecord[];
  }

  async request(id: string) {
    return (await this.one('SELECT * FROM contact_requests WHERE id = $1', [id])) as RequestRecord | null;
  }
  async pendingRequest(from_id: string, to_id: string) {
    return (await this.one("SELECT * FROM contact_requests WHERE from_id = $1 AND to_id = $2 AND status = 'pending'", [from_id, to_id])) as RequestRecord | null;
  }
  async requests(agent_id: string, filter: { direction?: 'incoming' | 'outgoing'; status?: RequestRecord['status'] }) {
    const who = filter.direction === 'incoming' ? 'to_id = $1' : filter.direction === 'outgoing' ? 'from_id = $1' : '(to_id = $1 OR from_id = $1)';
    const params: unknown[] = [agent_id];
    let sql = `SELECT * FROM contact_requests WHERE ${who}`;
    if (filter.status) {
      params.push(filter.status);
      sql += ' AND status = $2';
    }
    return (await this.rows(`${sql} ORDER BY created_at DESC, id LIMIT 500`, params)) as RequestRecord[];
  }
  async countPendingOutgoing(agent_id: string) {
    return (await this.one("SELECT COUNT(*) AS n FROM contact_requests WHERE from_id = $1 AND status = 'pending'", [agent_id]))!.n as number;
  }

  async message(id: string) {
    return toMessage(await this.one('SELECT * FROM messages WHERE id = $1', [id]));
  }
  async messageByClientId(sender_id: string, client_id: string) {
    return toMessage(await this.one('SELECT * FROM messages WHERE sender_id = $1 AND client_id = $2', [sender_id, client_id]));
  }
  async inbox(recipient_id: string, o: InboxOptions) {
    const params: unknown[] = [recipient_id, o.limit];
    let sql = 'SELECT * FROM messages WHERE recipient_id = $1';
    if (o.unreadOnly) sql += ' AND read_at IS NULL';
    if (o.cursorSeq !== undefined) {
      params.push(o.cursorSeq);
      sql += o.order === 'asc' ? ' AND seq > $3' : ' AND seq < $3';
    }
    sql += ` ORDER BY seq ${o.order === 'asc' ? 'ASC' : 'DESC'} LIMIT $2`;
    return (await this.rows(sql, params)).map((r) => toMessage(r)!);
  }
  async unreadCount(recipient_id: string) {
    return (await this.one('SELECT COUNT(*) AS n FROM messages WHERE recipient_id = $1 AND read_at IS NULL', [recipient_id]))!.n as number;
  }
  async outbox(sender_id: string, o: { cursorSeq?: number; limit: number }) {
    const rows =
      o.cursorSeq === undefined
        ? await this.rows('SELECT * FROM messages WHERE sender_id = $1 ORDER BY seq DESC LIMIT $2', [sender_id, o.limit])
        : await this.rows('SELECT * FROM messages WHERE sender_id = $1 AND seq < $3 ORDER BY seq DESC LIMIT $2', [sender_id, o.limit, o.cursorSeq]);
    return rows.map((r) => toMessage(r)!);
  }
  async thread(thread_id: string) {
    return (await this.rows('SELECT * FROM messages WHERE thread_id = $1 ORDER BY seq ASC LIMIT 1000', [thread_id])).map((r) => toMessage(r)!);
  }
  async conversations(agent_id: string): Promise<ConversationRow[]> {
    return (await this.rows(
      `SELECT peer_id, MAX(seq) AS last_seq, SUM(unread)::bigint AS unread_count, COUNT(*) AS message_count FROM (
         SELECT recipient_id AS peer_id, seq, 0 AS unread FROM messages WHERE sender_id = $1
         UNION ALL
         SELECT sender_id AS peer_id, seq, CASE WHEN read_at IS NULL THEN 1 ELSE 0 END FROM messages WHERE recipient_id = $1
       ) AS mine GROUP BY peer_id ORDER BY last_seq DESC LIMIT 500`,
      [agent_id],
    )) as ConversationRow[];
  }
  async conversation(agent_id: string, peer_id: string, o: { cursorSeq?: number; limit: number }) {
    // Two index ranges (outbox and inbox), merged: no OR across indexes.
    const before = o.cursorSeq ?? Number.MAX_SAFE_INTEGER;
    const rows = await this.rows(
      `(SELECT * FROM messages WHERE sender_id = $1 AND recipient_id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4)
       UNION ALL (SELECT * FROM messages WHERE sender_id = $2 AND recipient_id = $1 AND seq < $3 ORDER BY seq DESC LIMIT $4)
       ORDER BY seq DESC LIMIT $4`,
      [agent_id, peer_id, before, o.limit],
    );
    return rows.map((r) => toMessage(r)!);
  }
  async messagesBySeq(seqs: number[]) {
    if (seqs.length === 0) return [];
    return (await this.rows('SELECT * FROM messages WHERE seq = ANY($1::bigint[])', [seqs])).map((r) => toMessage(r)!);
  }

  async capabilities(agent_id: string) {
    return (await this.one('SELECT * FROM capabilities WHERE agent_id = $1', [agent_id])) as CapabilitiesRecord | null;
  }

  async events(agent_id: string, o: { afterSeq: number; limit: number }) {
    return (await this.rows('SELECT * FROM events WHERE agent_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [agent_id, o.afterSeq, o.limit])) as EventRecord[];
  }
  async lastEventSeq(agent_id: string) {
    return ((await this.one('SELECT MAX(seq) AS seq FROM events WHERE agent_id = $1', [agent_id]))!.seq as number | null) ?? 0;
  }
  async webhook(agent_id: string) {
    return (await this.one('SELECT * FROM webhooks WHERE agent_id = $1', [agent_id])) as WebhookRecord | null;
  }
  async deliveries(agent_id: string, o: { status?: DeliveryRecord['status']; limit: number }) {
    return (
      o.status
        ? await this.rows('SELECT * FROM webhook_deliveries WHERE agent_id = $1 AND status = $3 ORDER BY event_seq DESC LIMIT $2', [agent_id, o.limit, o.status])
        : await this.rows('SELECT * FROM webhook_deliveries WHERE agent_id = $1 ORDER BY event_seq DESC LIMIT $2', [agent_id, o.limit])
    ) as DeliveryRecord[];
  }
  async pendingDeliveries(agent_id: string) {
    return (await this.one("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE agent_id = $1 AND status = 'pending'", [agent_id]))!.n as number;
  }

  async audit(agent_id: string, o: { afterSeq?: number; limit: number }) {
    return (await this.rows('SELECT * FROM audit_log WHERE agent_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3', [agent_id, o.afterSeq ?? 0, o.limit])) as AuditRecord[];
  }
  async auditAll(agent_id: string) {
    return (await this.rows('SELECT * FROM audit_log WHERE agent_id = $1 ORDER BY seq ASC', [agent_id])) as AuditRecord[];
  }

  async deliveryStats(now: string) {
    return (await this.one(DELIVERY_STATS_SQL, [now])) as DeliveryStats;
  }
  async listAgents(o: { offset: number; limit: number }) {
    return (await this.rows('SELECT * FROM agents ORDER BY created_at, id LIMIT $1 OFFSET $2', [o.limit, o.offset])) as AgentRecord[];
  }
  async invites() {
    return (await this.rows('SELECT * FROM invites ORDER BY created_at DESC, token_hash')) as InviteRecord[];
  }
  async serverAuditAll() {
    return (await this.rows('SELECT * FROM server_audit ORDER BY seq ASC')) as ServerAuditRecord[];
  }
}

async function runMigration(client: pg.PoolClient, m: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(m.sql);
    await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
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
    else if (op.op === 'insertMessage') agents.add(op.message.sender_id).add(op.message.recipient_id);
    else if (op.op === 'deleteAgent') agents.add(op.id);
    else if (op.op === 'appendServerAudit') agents.add(SERVER_AUDIT_SUBJECT);
  }
  const keys = [...agents].map((id) => createHash('sha256').update(id).digest().readInt32BE(0));
  return [...new Set(keys)].sort((a, b) => a - b);
}

function toMessage(r: Row | null): MessageRecord | null {
  return r ? ({ ...r, payload: r.payload ?? null } as MessageRecord) : null;
}

const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

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
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(e.message ?? '')
  ) {
    return new StoreError('unavailable', `storage unavailable (${code || e.message})`, error);
  }
  return error;
}
