/** Schema migrations: one list per dialect, applied in version order; shared rules here. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * A database migrated by a newer build holds versions this build does not know: refuse to run on it
 * (its code would not write what the newer schema expects). Both backends call this before migrating.
 */
export function assertSchemaKnown(applied: Iterable<number>, known: readonly Migration[]): void {
  const versions = new Set(known.map((m) => m.version));
  const unknown = [...applied].filter((v) => !versions.has(v));
  if (unknown.length) {
    throw new Error(
      `the database has schema version ${Math.max(...unknown)}, newer than this build knows (${Math.max(...versions)}); ` +
        'run the newer agent2agent release (downgrades are not supported: restore a backup taken before the upgrade instead)',
    );
  }
}

/**
 * Migrations whose DDL is the same in both dialects (each dialect's list includes them). 6: the webhook
 * delivery queue becomes the general durable outbox, keeping every delivery (pending ones included).
 */
export const OUTBOX_MIGRATION: Migration = {
  version: 6,
  name: 'the general durable outbox (webhook deliveries become its first kind)',
  sql: `
    CREATE TABLE outbox (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      agent_id TEXT NOT NULL REFERENCES agents(id),
      queue TEXT NOT NULL,
      position BIGINT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending','delivered','dead')),
      attempts INTEGER NOT NULL DEFAULT 0,
      not_before TEXT NOT NULL,
      lease_until TEXT,
      last_status INTEGER,
      last_error TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    INSERT INTO outbox (id, kind, agent_id, queue, position, status, attempts, not_before, lease_until, last_status, last_error, created_at, updated_at)
      SELECT id, 'webhook', agent_id, agent_id, event_seq, status, attempts, next_attempt_at, lease_until, last_status, last_error, created_at, updated_at
      FROM webhook_deliveries;
    DROP TABLE webhook_deliveries;
    CREATE INDEX outbox_due ON outbox(status, not_before);
    CREATE INDEX outbox_agent ON outbox(agent_id, position);
    CREATE INDEX outbox_queue_head ON outbox(kind, queue, position) WHERE status = 'pending';
  `,
};

/**
 * 11: the A2A bridge (docs/SPEC.md, "A2A binding"). The server's own signing key (AgentCard JWS);
 * the external A2A agents AMTP agents wrote to, each represented by a local agent row (its queue in
 * the outbox, kind `a2a`); and the A2A tasks withdrawn by CancelTask before delivery.
 */
export const A2A_MIGRATION: Migration = {
  version: 11,
  name: 'A2A bridge: server key, external A2A agents, canceled tasks',
  sql: `
    CREATE TABLE server_keys (
      id TEXT PRIMARY KEY,
      private_jwk TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE a2a_peers (
      agent_id TEXT PRIMARY KEY REFERENCES agents(id),
      card_url TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL
    );
    CREATE TABLE a2a_canceled (
      message_id TEXT PRIMARY KEY,
      sender_id TEXT NOT NULL,
      recipient_id TEXT NOT NULL,
      thread_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      canceled_at TEXT NOT NULL
    );
  `,
};
