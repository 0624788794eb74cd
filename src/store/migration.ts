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
