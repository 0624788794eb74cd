/**
 * Migration 10 (the same DDL in both dialects): federation. The server's own signing keys (one
 * current, so instances sharing a PostgreSQL database share it), the remote agents this server
 * knows (each mirrored by a local agent row named by its full address, so grants, blocks, requests
 * and messages work unchanged), and each relayed message's hand-over status.
 */
import type { Migration } from './migration.js';

export const FEDERATION_MIGRATION: Migration = {
  version: 10,
  name: 'federation: server signing keys, remote agents, relay status',
  sql: `
    CREATE TABLE server_keys (
      kid TEXT PRIMARY KEY,
      public_key TEXT NOT NULL,
      secret_key TEXT NOT NULL,
      current INTEGER UNIQUE,
      created_at TEXT NOT NULL,
      retired_at TEXT
    );
    CREATE TABLE remote_agents (
      agent_id TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
      address TEXT NOT NULL UNIQUE,
      domain TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX remote_agents_domain ON remote_agents(domain);
    CREATE TABLE relays (
      message_id TEXT PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('queued','relayed','failed')),
      reason TEXT,
      updated_at TEXT NOT NULL
    );
  `,
};
