/**
 * SQLite backend (better-sqlite3, WAL). Writes are group-committed: every `apply` issued in the same
 * event-loop turn shares one transaction (each in its own savepoint, so one failing call does not undo
 * the others), and one fsync makes the whole batch durable before any caller's promise resolves.
 */
import Database from 'better-sqlite3';
import { AUDIT_GENESIS, auditHash } from '../../protocol/audit-chain.js';
import {
  StoreError,
  type AgentRecord,
  type AuditDraft,
  type AuditRecord,
  type BlockRecord,
  type CapabilitiesRecord,
  type ConversationRow,
  type DeliveryRecord,
  type EventRecord,
  type WebhookRecord,
  type GrantRecord,
  type InboxOptions,
  type MessageRecord,
  type RequestRecord,
  type ResultsOf,
  type Store,
  type WriteOp,
} from '../types.js';
import { sqliteMigrations } from './migrations.js';

export type Durability = 'full' | 'relaxed';

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** full: fsync on every commit (survives power loss). relaxed: survives a process crash only. */
  durability?: Durability;
}

interface PendingApply {
  ops: readonly WriteOp[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Row = Record<string, unknown>;

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private pending: PendingApply[] = [];
  private flushScheduled = false;

  constructor(opts: SqliteStoreOptions) {
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.durability === 'relaxed' ? 'NORMAL' : 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const applied = new Set(this.db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    for (const m of sqliteMigrations) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      }).immediate();
    }
  }

  async close(): Promise<void> {
    if (this.pending.length) this.flush();
    if (this.db.open) this.db.close();
  }

  apply<const T extends readonly WriteOp[]>(ops: T): Promise<ResultsOf<T>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.db
        .transaction(() => {
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, value: this.db.transaction(() => item.ops.map((op) => this.execute(op)))() });
            } catch (error) {
              // Some failures (a full disk, I/O errors) make SQLite roll back the whole transaction,
              // not just this savepoint: then the entire batch fails, and nobody is told "committed".
              if (!this.db.inTransaction) throw error;
              outcomes.push({ ok: false, value: error });
            }
          }
        })
        .immediate();
    } catch (error) {
      const failure = translateError(error);
      for (const item of batch) item.reject(failure);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(translateError(outcome.value));
    });
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private execute(op: WriteOp): unknown {
    switch (op.op) {
      case 'createAgent': {
        const a = op.agent;
        this.stmt(
          `INSERT INTO agents (id, name, display_name, public_key, encryption_key, api_key_hash, delivery_secret, key_rotation, keys_reset_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(a.id, a.name, a.display_name, a.public_key, a.encryption_key, a.api_key_hash, a.delivery_secret, json(a.key_rotation), a.keys_reset_at, a.created_at);
        return undefined;
      }
      case 'updateAgent': {
        const entries = Object.entries(op.patch)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, k === 'key_rotation' ? json(v) : v] as const);
        if (entries.length === 0) return false;
        const sets = entries.map(([k]) => `${k} = ?`).join(', ');
        return this.stmt(`UPDATE agents SET ${sets} WHERE id = ?`).run(...entries.map(([, v]) => v), op.id).changes > 0;
      }
      case 'useNonce':
        this.stmt('INSERT INTO sig_nonces (sender_id, nonce, expires_at) VALUES (?, ?, ?)').run(op.sender_id, op.nonce, op.expires_at);
        return undefined;
      case 'pruneNonces':
        return this.stmt('DELETE FROM sig_nonces WHERE expires_at < ?').run(op.before).changes;
      case 'putGrant': {
        const g = op.grant;
        this.stmt(
          `INSERT INTO grants (granter_id, grantee_id, scopes, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (granter_id, grantee_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
        ).run(g.granter_id, g.grantee_id, JSON.stringify(g.scopes), g.created_at, g.updated_at);
        return undefined;
      }
      case 'deleteGrant':
        return this.stmt('DELETE FROM grants WHERE granter_id = ? AND grantee_id = ?').run(op.granter_id, op.grantee_id).changes > 0;
      case 'putBlock':
        this.stmt('INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(
          op.block.blocker_id,
          op.block.blocked_id,
          op.block.created_at,
        );
        return undefined;
      case 'deleteBlock':
        return this.stmt('DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?').run(op.blocker_id, op.blocked_id).changes > 0;
      case 'createRequest': {
        const r = op.request;
        this.stmt(
          'INSERT INTO contact_requests (id, from_id, to_id, note, scopes, status, created_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(r.id, r.from_id, r.to_id, r.note, JSON.stringify(r.scopes), r.status, r.created_at, r.decided_at);
        return undefined;
      }
      case 'decideRequest':
        return (
          this.stmt("UPDATE contact_requests SET status = ?, decided_at = ? WHERE id = ? AND status = 'pending'").run(op.status, op.at, op.id)
            .changes > 0
        );
      case 'insertMessage':
        return this.insertMessage(op.message);
      case 'markDelivered':
        if (op.ids.length === 0) return 0;
        return this.stmt(
          'UPDATE messages SET delivered_at = ? WHERE recipient_id = ? AND delivered_at IS NULL AND id IN (SELECT value FROM json_each(?))',
        ).run(op.at, op.recipient_id, JSON.stringify(op.ids)).changes;
      case 'markRead': {
        let sql = 'UPDATE messages SET read_at = ?, delivered_at = COALESCE(delivered_at, ?) WHERE recipient_id = ? AND read_at IS NULL';
        const args: unknown[] = [op.at, op.at, op.recipient_id];
        if (op.ids) {
          sql += ' AND id IN (SELECT value FROM json_each(?))';
          args.push(JSON.stringify(op.ids));
        }
        if (op.thread_id) {
          sql += ' AND thread_id = ?';
          args.push(op.thread_id);
        }
        return this.stmt(sql).run(...args).changes;
      }
      case 'setCapabilities':
        this.stmt(
          `INSERT INTO capabilities (agent_id, capabilities, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (agent_id) DO UPDATE SET capabilities = excluded.capabilities, updated_at = excluded.updated_at`,
        ).run(op.record.agent_id, JSON.stringify(op.record.capabilities), op.record.updated_at);
        return undefined;
      case 'appendAudit':
        return this.appendAudit(op.entry);
      case 'createInvite':
        this.stmt('INSERT INTO invites (token_hash, created_at, expires_at) VALUES (?, ?, ?)').run(op.token_hash, op.created_at, op.expires_at);
        return undefined;
      case 'consumeInvite': {
        const changed = this.stmt(
          'UPDATE invites SET used_at = ?, used_by = ? WHERE token_hash = ? AND used_at IS NULL AND (expires_at IS NULL OR expires_at > ?)',
        ).run(op.at, op.agent_id, op.token_hash, op.at).changes;
        if (changed === 0) throw new StoreError('invite_unavailable', 'invite token unknown, used or expired');
        return undefined;
      }
      case 'pruneMessages': {
        let removed = 0;
        if (op.olderThan) removed += this.stmt('DELETE FROM messages WHERE created_at < ?').run(op.olderThan).changes;
        if (op.keepPerMailbox) {
          removed += this.stmt(
            `DELETE FROM messages WHERE seq IN (SELECT seq FROM (
               SELECT seq, ROW_NUMBER() OVER (PARTITION BY recipient_id ORDER BY seq DESC) AS rn FROM messages) WHERE rn > ?)`,
          ).run(op.keepPerMailbox).changes;
        }
        return removed;
      }
      case 'appendEvent':
        return this.appendEvent(op.event);
      case 'pruneEvents':
        this.stmt("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < ?").run(op.olderThan);
        return this.stmt(
          "DELETE FROM events WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = events.id AND d.status = 'pending')",
        ).run(op.olderThan).changes;
      case 'putWebhook': {
        const w = op.webhook;
        this.stmt(
          `INSERT INTO webhooks (agent_id, url, secret, events, enabled, disabled_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (agent_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events,
             enabled = excluded.enabled, disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at`,
        ).run(w.agent_id, w.url, w.secret, JSON.stringify(w.events), w.enabled ? 1 : 0, w.disabled_reason, w.created_at, w.updated_at);
        return undefined;
      }
      case 'deleteWebhook':
        this.stmt("DELETE FROM webhook_deliveries WHERE agent_id = ? AND status = 'pending'").run(op.agent_id);
        return this.stmt('DELETE FROM webhooks WHERE agent_id = ?').run(op.agent_id).changes > 0;
      case 'disableWebhook':
        return (
          this.stmt('UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE agent_id = ? AND enabled = 1').run(
            op.reason,
            op.at,
            op.agent_id,
          ).changes > 0
        );
      case 'claimDeliveries': {
        const due = this.stmt(
          `SELECT d.* FROM webhook_deliveries d
           WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until < ?)
             AND EXISTS (SELECT 1 FROM webhooks w WHERE w.agent_id = d.agent_id AND w.enabled = 1)
             AND d.event_seq = (SELECT MIN(event_seq) FROM webhook_deliveries p WHERE p.agent_id = d.agent_id AND p.status = 'pending')
           ORDER BY d.next_attempt_at LIMIT ?`,
        ).all(op.now, op.now, op.limit) as DeliveryRecord[];
        for (const d of due) this.stmt('UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?').run(op.lease_until, d.id);
        return due.map((d) => ({ ...d, lease_until: op.lease_until }));
      }
      case 'recordDelivery':
        this.stmt(
          `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?, lease_until = NULL, updated_at = ?
           WHERE id = ?`,
        ).run(op.status, op.attempts, op.next_attempt_at, op.last_status, op.last_error, op.at, op.id);
        return undefined;
      case 'redeliver':
        return (
          this.stmt(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND agent_id = ? AND status <> 'pending'",
          ).run(op.at, op.at, op.id, op.agent_id).changes > 0
        );
    }
  }

  private appendEvent(event: Omit<EventRecord, 'seq'>): EventRecord {
    const seq = ((this.stmt('SELECT MAX(seq) FROM events WHERE agent_id = ?').pluck().get(event.agent_id) as number | null) ?? 0) + 1;
    this.stmt('INSERT INTO events (agent_id, seq, id, type, data, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      event.agent_id,
      seq,
      event.id,
      event.type,
      JSON.stringify(event.data),
      event.created_at,
    );
    this.stmt(
      `INSERT INTO webhook_deliveries (id, agent_id, event_seq, status, next_attempt_at, created_at, updated_at)
       SELECT ?, agent_id, ?, 'pending', ?, ?, ? FROM webhooks w
       WHERE w.agent_id = ? AND w.enabled = 1 AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = ?)`,
    ).run(event.id, seq, event.created_at, event.created_at, event.created_at, event.agent_id, event.type);
    return { ...event, seq };
  }

  private insertMessage(m: Omit<MessageRecord, 'seq'>): MessageRecord {
    const info = this.stmt(
      `INSERT INTO messages (id, thread_id, sender_id, recipient_id, subject, body, scope, intent, payload, reply_to_id, client_id,
         sealed, sealed_for_sender, ed25519_signature, sig_nonce, signed_at, created_at, delivered_at, read_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      m.id,
      m.thread_id,
      m.sender_id,
      m.recipient_id,
      m.subject,
      m.body,
      m.scope,
      m.intent,
      m.payload === undefined || m.payload === null ? null : JSON.stringify(m.payload),
      m.reply_to_id,
      m.client_id,
      json(m.sealed),
      json(m.sealed_for_sender),
      m.ed25519_signature,
      m.sig_nonce,
      m.signed_at,
      m.created_at,
      m.delivered_at,
      m.read_at,
    );
    return { ...m, seq: Number(info.lastInsertRowid) };
  }

  private appendAudit(entry: AuditDraft): AuditRecord {
    const last = this.stmt('SELECT seq, hash FROM audit_log WHERE agent_id = ? ORDER BY seq DESC LIMIT 1').get(entry.agent_id) as
      | { seq: number; hash: string }
      | undefined;
    const seq = (last?.seq ?? 0) + 1;
    const prev_hash = last?.hash ?? AUDIT_GENESIS;
    const hash = auditHash({ ...entry, seq, prev_hash });
    this.stmt(
      'INSERT INTO audit_log (agent_id, seq, at, action, target_id, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(entry.agent_id, seq, entry.at, entry.action, entry.target_id, JSON.stringify(entry.details), prev_hash, hash);
    return { ...entry, seq, prev_hash, hash };
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────────────
  async agentById(id: string) {
    return toAgent(this.stmt('SELECT * FROM agents WHERE id = ?').get(id) as Row | undefined);
  }
  async agentByName(name: string) {
    return toAgent(this.stmt('SELECT * FROM agents WHERE name = ?').get(name) as Row | undefined);
  }
  async agentByKeyHash(hash: string) {
    return toAgent(this.stmt('SELECT * FROM agents WHERE api_key_hash = ?').get(hash) as Row | undefined);
  }
  async agentsByIds(ids: string[]) {
    if (ids.length === 0) return [];
    return (this.stmt('SELECT * FROM agents WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as Row[]).map((r) => toAgent(r)!);
  }

  async grant(granter_id: string, grantee_id: string) {
    const row = this.stmt('SELECT * FROM grants WHERE granter_id = ? AND grantee_id = ?').get(granter_id, grantee_id) as Row | undefined;
    return row ? toGrant(row) : null;
  }
  async grantsInvolving(agent_id: string) {
    return (this.stmt('SELECT * FROM grants WHERE granter_id = ? OR grantee_id = ?').all(agent_id, agent_id) as Row[]).map(toGrant);
  }
  async isBlocked(blocker_id: string, blocked_id: string) {
    return this.stmt('SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?').get(blocker_id, blocked_id) !== undefined;
  }
  async blocksInvolving(agent_id: string) {
    return this.stmt('SELECT * FROM blocks WHERE blocker_id = ? OR blocked_id = ?').all(agent_id, agent_id) as BlockRecord[];
  }

  async request(id: string) {
    const row = this.stmt('SELECT * FROM contact_requests WHERE id = ?').get(id) as Row | undefined;
    return row ? toRequest(row) : null;
  }
  async pendingRequest(from_id: string, to_id: string) {
    const row = this.stmt("SELECT * FROM contact_requests WHERE from_id = ? AND to_id = ? AND status = 'pending'").get(from_id, to_id) as
      | Row
      | undefined;
    return row ? toRequest(row) : null;
  }
  async requests(agent_id: string, filter: { direction?: 'incoming' | 'outgoing'; status?: RequestRecord['status'] }) {
    const who =
      filter.direction === 'incoming' ? 'to_id = ?' : filter.direction === 'outgoing' ? 'from_id = ?' : '(to_id = ? OR from_id = ?)';
    const args: unknown[] = filter.direction ? [agent_id] : [agent_id, agent_id];
    let sql = `SELECT * FROM contact_requests WHERE ${who}`;
    if (filter.status) {
      sql += ' AND status = ?';
      args.push(filter.status);
    }
    sql += ' ORDER BY created_at DESC, id LIMIT 500';
    return (this.stmt(sql).all(...args) as Row[]).map(toRequest);
  }
  async countPendingOutgoing(agent_id: string) {
    return this.stmt("SELECT COUNT(*) FROM contact_requests WHERE from_id = ? AND status = 'pending'").pluck().get(agent_id) as number;
  }

  async message(id: string) {
    const row = this.stmt('SELECT * FROM messages WHERE id = ?').get(id) as Row | undefined;
    return row ? toMessage(row) : null;
  }
  async messageByClientId(sender_id: string, client_id: string) {
    const row = this.stmt('SELECT * FROM messages WHERE sender_id = ? AND client_id = ?').get(sender_id, client_id) as Row | undefined;
    return row ? toMessage(row) : null;
  }
  async inbox(recipient_id: string, o: InboxOptions) {
    const unread = o.unreadOnly ? ' AND read_at IS NULL' : '';
    const cursor = o.cursorSeq === undefined ? '' : o.order === 'asc' ? ' AND seq > ?' : ' AND seq < ?';
    const sql = `SELECT * FROM messages WHERE recipient_id = ?${unread}${cursor} ORDER BY seq ${o.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
    const args = o.cursorSeq === undefined ? [recipient_id, o.limit] : [recipient_id, o.cursorSeq, o.limit];
    return (this.stmt(sql).all(...args) as Row[]).map(toMessage);
  }
  async unreadCount(recipient_id: string) {
    return this.stmt('SELECT COUNT(*) FROM messages WHERE recipient_id = ? AND read_at IS NULL').pluck().get(recipient_id) as number;
  }
  async outbox(sender_id: string, o: { cursorSeq?: number; limit: number }) {
    const rows =
      o.cursorSeq === undefined
        ? this.stmt('SELECT * FROM messages WHERE sender_id = ? ORDER BY seq DESC LIMIT ?').all(sender_id, o.limit)
        : this.stmt('SELECT * FROM messages WHERE sender_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?').all(sender_id, o.cursorSeq, o.limit);
    return (rows as Row[]).map(toMessage);
  }
  async thread(thread_id: string) {
    return (this.stmt('SELECT * FROM messages WHERE thread_id = ? ORDER BY seq ASC LIMIT 1000').all(thread_id) as Row[]).map(toMessage);
  }
  async conversations(agent_id: string): Promise<ConversationRow[]> {
    return this.stmt(
      `SELECT peer_id, MAX(seq) AS last_seq, SUM(unread) AS unread_count, COUNT(*) AS message_count FROM (
         SELECT recipient_id AS peer_id, seq, 0 AS unread FROM messages WHERE sender_id = ?
         UNION ALL
         SELECT sender_id AS peer_id, seq, CASE WHEN read_at IS NULL THEN 1 ELSE 0 END FROM messages WHERE recipient_id = ?
       ) GROUP BY peer_id ORDER BY last_seq DESC LIMIT 500`,
    ).all(agent_id, agent_id) as ConversationRow[];
  }
  async messagesBySeq(seqs: number[]) {
    if (seqs.length === 0) return [];
    return (this.stmt('SELECT * FROM messages WHERE seq IN (SELECT value FROM json_each(?))').all(JSON.stringify(seqs)) as Row[]).map(toMessage);
  }

  async capabilities(agent_id: string): Promise<CapabilitiesRecord | null> {
    const row = this.stmt('SELECT * FROM capabilities WHERE agent_id = ?').get(agent_id) as Row | undefined;
    return row ? { agent_id, capabilities: JSON.parse(row.capabilities as string), updated_at: row.updated_at as string } : null;
  }

  async events(agent_id: string, o: { afterSeq: number; limit: number }) {
    return (this.stmt('SELECT * FROM events WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(agent_id, o.afterSeq, o.limit) as Row[]).map(
      toEvent,
    );
  }
  async lastEventSeq(agent_id: string) {
    return (this.stmt('SELECT MAX(seq) FROM events WHERE agent_id = ?').pluck().get(agent_id) as number | null) ?? 0;
  }
  async webhook(agent_id: string): Promise<WebhookRecord | null> {
    const row = this.stmt('SELECT * FROM webhooks WHERE agent_id = ?').get(agent_id) as Row | undefined;
    return row ? { ...(row as unknown as WebhookRecord), events: JSON.parse(row.events as string), enabled: row.enabled === 1 } : null;
  }
  async deliveries(agent_id: string, o: { status?: DeliveryRecord['status']; limit: number }) {
    const rows = o.status
      ? this.stmt('SELECT * FROM webhook_deliveries WHERE agent_id = ? AND status = ? ORDER BY event_seq DESC LIMIT ?').all(agent_id, o.status, o.limit)
      : this.stmt('SELECT * FROM webhook_deliveries WHERE agent_id = ? ORDER BY event_seq DESC LIMIT ?').all(agent_id, o.limit);
    return rows as DeliveryRecord[];
  }
  async pendingDeliveries(agent_id: string) {
    return this.stmt("SELECT COUNT(*) FROM webhook_deliveries WHERE agent_id = ? AND status = 'pending'").pluck().get(agent_id) as number;
  }

  async audit(agent_id: string, o: { afterSeq?: number; limit: number }) {
    return (
      this.stmt('SELECT * FROM audit_log WHERE agent_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?').all(agent_id, o.afterSeq ?? 0, o.limit) as Row[]
    ).map(toAudit);
  }
  async auditAll(agent_id: string) {
    return (this.stmt('SELECT * FROM audit_log WHERE agent_id = ? ORDER BY seq ASC').all(agent_id) as Row[]).map(toAudit);
  }

  /** Consistent online copy of the database file (SQLite's backup API). */
  async backup(destination: string): Promise<void> {
    await this.db.backup(destination);
  }
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
const parse = (value: unknown) => (value === null || value === undefined ? null : JSON.parse(value as string));

function toAgent(r: Row | undefined): AgentRecord | null {
  return r ? { ...(r as unknown as AgentRecord), key_rotation: parse(r.key_rotation) } : null;
}
function toGrant(r: Row): GrantRecord {
  return { ...(r as unknown as GrantRecord), scopes: JSON.parse(r.scopes as string) };
}
function toRequest(r: Row): RequestRecord {
  return { ...(r as unknown as RequestRecord), scopes: JSON.parse(r.scopes as string) };
}
function toMessage(r: Row): MessageRecord {
  return { ...(r as unknown as MessageRecord), payload: parse(r.payload), sealed: parse(r.sealed), sealed_for_sender: parse(r.sealed_for_sender) };
}
function toEvent(r: Row): EventRecord {
  return { ...(r as unknown as EventRecord), data: JSON.parse(r.data as string) };
}
function toAudit(r: Row): AuditRecord {
  return { ...(r as unknown as AuditRecord), details: JSON.parse(r.details as string) };
}

function translateError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    if (message.includes('agents.name')) return new StoreError('name_taken', 'name already taken', error);
    return new StoreError('duplicate', message, error);
  }
  if (/^SQLITE_(FULL|BUSY|LOCKED|IOERR|READONLY|CANTOPEN|PROTOCOL|NOMEM)/.test(code)) {
    return new StoreError('unavailable', `storage unavailable (${code})`, error);
  }
  return error;
}
