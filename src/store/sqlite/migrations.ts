/** Versioned schema migrations for SQLite. Append only: never edit a migration that has shipped. */
import {
  A2A_MIGRATION,
  ATTENTION_MIGRATION,
  GUARD_MIGRATION,
  HOT_PATH_INDEXES_MIGRATION,
  OUTBOX_MIGRATION,
  type Migration,
} from '../migration.js';
import { FEDERATION_MIGRATION } from '../federation-migration.js';

export const sqliteMigrations: Migration[] = [
  {
    version: 1,
    name: 'mailbox core',
    sql: `
      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT,
        public_key TEXT,
        encryption_key TEXT,
        api_key_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );
      CREATE TABLE grants (
        granter_id TEXT NOT NULL REFERENCES agents(id),
        grantee_id TEXT NOT NULL REFERENCES agents(id),
        scopes TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (granter_id, grantee_id)
      );
      CREATE INDEX grants_grantee ON grants(grantee_id);
      CREATE TABLE blocks (
        blocker_id TEXT NOT NULL REFERENCES agents(id),
        blocked_id TEXT NOT NULL REFERENCES agents(id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (blocker_id, blocked_id)
      );
      CREATE INDEX blocks_blocked ON blocks(blocked_id);
      CREATE TABLE contact_requests (
        id TEXT PRIMARY KEY,
        from_id TEXT NOT NULL REFERENCES agents(id),
        to_id TEXT NOT NULL REFERENCES agents(id),
        note TEXT,
        scopes TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending','approved','declined')),
        created_at TEXT NOT NULL,
        decided_at TEXT
      );
      CREATE INDEX contact_requests_to ON contact_requests(to_id, status);
      CREATE INDEX contact_requests_from ON contact_requests(from_id, status);
      CREATE UNIQUE INDEX contact_requests_one_pending ON contact_requests(from_id, to_id) WHERE status = 'pending';
      CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        thread_id TEXT NOT NULL,
        sender_id TEXT NOT NULL REFERENCES agents(id),
        recipient_id TEXT NOT NULL REFERENCES agents(id),
        subject TEXT,
        body TEXT,
        scope TEXT NOT NULL,
        intent TEXT,
        payload TEXT,
        reply_to_id TEXT,
        client_id TEXT,
        created_at TEXT NOT NULL,
        delivered_at TEXT,
        read_at TEXT
      );
      CREATE INDEX messages_inbox ON messages(recipient_id, seq);
      CREATE INDEX messages_unread ON messages(recipient_id, seq) WHERE read_at IS NULL;
      CREATE INDEX messages_outbox ON messages(sender_id, seq);
      CREATE INDEX messages_thread ON messages(thread_id, seq);
      CREATE INDEX messages_created ON messages(created_at);
      CREATE UNIQUE INDEX messages_client_id ON messages(sender_id, client_id) WHERE client_id IS NOT NULL;
      CREATE TABLE capabilities (
        agent_id TEXT PRIMARY KEY REFERENCES agents(id),
        capabilities TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE audit_log (
        agent_id TEXT NOT NULL REFERENCES agents(id),
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        target_id TEXT,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (agent_id, seq)
      );
      CREATE TABLE invites (
        token_hash TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        used_at TEXT,
        used_by TEXT
      );
    `,
  },
  {
    version: 2,
    name: 'events, webhooks and their delivery outbox',
    sql: `
      CREATE TABLE events (
        agent_id TEXT NOT NULL REFERENCES agents(id),
        seq INTEGER NOT NULL,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (agent_id, seq)
      );
      CREATE INDEX events_created ON events(created_at);
      CREATE TABLE webhooks (
        agent_id TEXT PRIMARY KEY REFERENCES agents(id),
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        disabled_reason TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        event_seq INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending','delivered','dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        lease_until TEXT,
        last_status INTEGER,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
      CREATE INDEX webhook_deliveries_agent ON webhook_deliveries(agent_id, event_seq);
    `,
  },
  {
    version: 3,
    name: 'signed and sealed mail, delivery secrets, key rotation',
    sql: `
      ALTER TABLE agents ADD COLUMN delivery_secret TEXT NOT NULL DEFAULT '';
      ALTER TABLE agents ADD COLUMN key_rotation TEXT;
      ALTER TABLE agents ADD COLUMN keys_reset_at TEXT;
      ALTER TABLE messages ADD COLUMN sealed TEXT;
      ALTER TABLE messages ADD COLUMN sealed_for_sender TEXT;
      ALTER TABLE messages ADD COLUMN ed25519_signature TEXT;
      ALTER TABLE messages ADD COLUMN sig_nonce TEXT;
      ALTER TABLE messages ADD COLUMN signed_at TEXT;
      CREATE TABLE sig_nonces (
        sender_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (sender_id, nonce)
      );
      CREATE INDEX sig_nonces_expiry ON sig_nonces(expires_at);
    `,
  },
  {
    version: 4,
    name: 'the head of each webhook queue found by index',
    sql: `
      CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(agent_id, event_seq) WHERE status = 'pending';
    `,
  },
  {
    version: 5,
    name: 'operator tools: suspension, invite revocation, the server audit log',
    sql: `
      ALTER TABLE agents ADD COLUMN suspended_at TEXT;
      ALTER TABLE invites ADD COLUMN revoked_at TEXT;
      CREATE TABLE server_audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        target_id TEXT,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
    `,
  },
  OUTBOX_MIGRATION,
  HOT_PATH_INDEXES_MIGRATION,
  ATTENTION_MIGRATION,
  GUARD_MIGRATION,
  FEDERATION_MIGRATION,
  A2A_MIGRATION,
];
