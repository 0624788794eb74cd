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
 * 7: every hot query index-bounded by construction (test/soak/query-plans.test.ts), and failed
 * deliveries step out of their queue's line (src/store/outbox.ts): a queue's head is found among the
 * deliveries not yet attempted, due retries among the failed ones only (outbox_due, by status and
 * due time, would walk every pending delivery), and pruning finished rows reads only the expired ones.
 */
export const HOT_PATH_INDEXES_MIGRATION: Migration = {
  version: 7,
  name: 'outbox indexes: queue heads not yet attempted, due retries, finished rows by age',
  sql: `
    CREATE INDEX outbox_queue_next ON outbox(kind, queue, position) WHERE status = 'pending' AND attempts = 0;
    DROP INDEX outbox_due;
    CREATE INDEX outbox_status ON outbox(status, attempts, not_before);
    CREATE INDEX outbox_finished ON outbox(updated_at) WHERE status <> 'pending';
  `,
};

/**
 * 8 (issue 18, attention): reply-by deadlines, held (quiet hours) mail and processed receipts on
 * messages, quiet hours on agents. JSON kept as TEXT in both dialects (read back by rows.ts), so the
 * DDL is shared. Deadlines and releases are outbox kinds: no new queue table.
 */
export const ATTENTION_MIGRATION: Migration = {
  version: 8,
  name: 'attention: reply-by deadlines, quiet hours, processed receipts',
  sql: `
    ALTER TABLE messages ADD COLUMN reply_by TEXT;
    ALTER TABLE messages ADD COLUMN deadline_state TEXT;
    ALTER TABLE messages ADD COLUMN deadline_note TEXT;
    ALTER TABLE messages ADD COLUMN deadline_at TEXT;
    ALTER TABLE messages ADD COLUMN held_until TEXT;
    ALTER TABLE messages ADD COLUMN processed TEXT;
    ALTER TABLE agents ADD COLUMN quiet_hours TEXT;
    CREATE INDEX messages_sender_deadline ON messages(sender_id, deadline_at) WHERE deadline_state IN ('missed', 'declined');
    CREATE INDEX outbox_kind_due ON outbox(kind, not_before) WHERE status = 'pending';
    CREATE INDEX messages_pending_deadline ON messages(thread_id, recipient_id) WHERE deadline_state = 'pending';
  `,
};

/**
 * 9 (issue 19, guard rails), the same DDL in both dialects: grant limits per scope (expiry, count),
 * budgets per pair and an agent's defaults with their durable window counters, loop flags on threads,
 * messages held for approval, and the origin of a message (human or not).
 */
export const GUARD_MIGRATION: Migration = {
  version: 9,
  name: 'guard rails: grant limits, budgets, loop flags, held messages',
  sql: `
    CREATE TABLE grant_limits (
      granter_id TEXT NOT NULL,
      grantee_id TEXT NOT NULL,
      scope TEXT NOT NULL,
      expires_at TEXT,
      remaining INTEGER,
      PRIMARY KEY (granter_id, grantee_id, scope)
    );
    CREATE TABLE guard_settings (
      agent_id TEXT PRIMARY KEY REFERENCES agents(id),
      leak_guard INTEGER NOT NULL DEFAULT 0,
      per_hour INTEGER,
      per_day INTEGER,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE pair_budgets (
      recipient_id TEXT NOT NULL,
      sender_id TEXT NOT NULL,
      per_hour INTEGER,
      per_day INTEGER,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (recipient_id, sender_id)
    );
    CREATE TABLE budget_counters (
      recipient_id TEXT NOT NULL,
      sender_id TEXT NOT NULL,
      period TEXT NOT NULL,
      window_start TEXT NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (recipient_id, sender_id, period, window_start)
    );
    CREATE TABLE thread_loops (
      thread_id TEXT PRIMARY KEY,
      agent_a TEXT NOT NULL,
      agent_b TEXT NOT NULL,
      messages INTEGER NOT NULL,
      flagged_at TEXT NOT NULL,
      cleared_at TEXT
    );
    CREATE INDEX thread_loops_a ON thread_loops(agent_a);
    CREATE INDEX thread_loops_b ON thread_loops(agent_b);
    CREATE TABLE held_messages (
      id TEXT PRIMARY KEY,
      sender_id TEXT NOT NULL REFERENCES agents(id),
      recipient_id TEXT NOT NULL,
      thread_id TEXT NOT NULL,
      input TEXT NOT NULL,
      reasons TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX held_messages_sender ON held_messages(sender_id, created_at);
    ALTER TABLE messages ADD COLUMN origin TEXT;
  `,
};

/**
 * 11: the A2A bridge (docs/SPEC.md, "A2A binding"; the AgentCards are signed with the server key of
 * migration 10). The external A2A agents AMTP agents wrote to, each represented by a local agent row (its queue in
 * the outbox, kind `a2a`); and the A2A tasks withdrawn by CancelTask before delivery.
 */
export const A2A_MIGRATION: Migration = {
  version: 11,
  name: 'A2A bridge: external A2A agents, canceled tasks',
  sql: `
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
