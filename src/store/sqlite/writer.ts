/**
 * Executes write ops on one SQLite connection. A batch of callers shares one transaction, each in its
 * own savepoint, so one failing call does not undo the others; the caller of `commit` answers nobody
 * before it returns (with synchronous=FULL, after the fsync).
 */
import type Database from 'better-sqlite3';
import { AUDIT_GENESIS, auditHash, chainServerAudit } from '../../protocol/audit-chain.js';
import {
  StoreError,
  type AuditDraft,
  type AuditRecord,
  type DeliveryRecord,
  type EventRecord,
  type MessageRecord,
  type ServerAuditDraft,
  type ServerAuditRecord,
  type WriteOp,
  DELETE_AGENT_TABLES,
} from '../types.js';
import { statementCache } from './connection.js';
import { json } from './rows.js';

const DELETE_AGENT = DELETE_AGENT_TABLES.map(([table, where]) => `DELETE FROM ${table} WHERE ${where}`);

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
      case 'deleteAgent':
        for (const sql of DELETE_AGENT) this.stmt(sql).run({ id: op.id });
        return this.stmt('DELETE FROM agents WHERE id = @id').run({ id: op.id }).changes > 0;
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
          'UPDATE invites SET used_at = ?, used_by = ? WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)',
        ).run(op.at, op.agent_id, op.token_hash, op.at).changes;
        if (changed === 0) throw new StoreError('invite_unavailable', 'invite token unknown, used, revoked or expired');
        return undefined;
      }
      case 'revokeInvite':
        return this.stmt('UPDATE invites SET revoked_at = ? WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL').run(op.at, op.token_hash).changes > 0;
      case 'appendServerAudit':
        return this.appendServerAudit(op.entry);
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
        // Only the head of each enabled webhook's queue is due (deliveries go out in order): one
        // index probe per webhook, however long the queues are.
        const heads = `SELECT d.* FROM webhooks w
           JOIN webhook_deliveries d ON d.agent_id = w.agent_id
             AND d.event_seq = (SELECT MIN(event_seq) FROM webhook_deliveries p WHERE p.agent_id = w.agent_id AND p.status = 'pending')
           WHERE w.enabled = 1 AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until < ?)`;
        const due = (
          op.agent_id
            ? this.stmt(`${heads} AND w.agent_id = ? LIMIT ?`).all(op.now, op.now, op.agent_id, op.limit)
            : this.stmt(`${heads} ORDER BY d.next_attempt_at LIMIT ?`).all(op.now, op.now, op.limit)
        ) as DeliveryRecord[];
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

  private appendServerAudit(entry: ServerAuditDraft): ServerAuditRecord {
    const last = this.stmt('SELECT seq, hash FROM server_audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const record = chainServerAudit(entry, last);
    this.stmt('INSERT INTO server_audit (seq, at, action, target_id, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      record.seq,
      record.at,
      record.action,
      record.target_id,
      JSON.stringify(record.details),
      record.prev_hash,
      record.hash,
    );
    return record;
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
}
