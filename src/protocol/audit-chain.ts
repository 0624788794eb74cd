/**
 * The audit log is a hash chain per agent: each entry's hash covers its content and the previous
 * entry's hash, so any edit, deletion or reordering breaks verification from that point on.
 * hash = hex(SHA-256(JCS({ v, agent_id, seq, at, action, target_id, details, prev_hash })))
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { canonicalBytes } from '../crypto/jcs.js';

export const AUDIT_GENESIS = '0'.repeat(64);
/** The `agent_id` the server-level (operator) audit log hashes under: never a valid agent id. */
export const SERVER_AUDIT_SUBJECT = 'server';

export interface ChainFields {
  agent_id: string;
  seq: number;
  at: string;
  action: string;
  target_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
}

export function auditHash(f: ChainFields): string {
  return bytesToHex(
    sha256(
      canonicalBytes({
        v: 'amtp-audit-1',
        agent_id: f.agent_id,
        seq: f.seq,
        at: f.at,
        action: f.action,
        target_id: f.target_id,
        details: f.details,
        prev_hash: f.prev_hash,
      }),
    ),
  );
}

/** Walks the chain; returns the first seq whose link or hash is wrong, or null when intact. */
export function findBrokenLink(entries: readonly (ChainFields & { hash: string })[]): number | null {
  let prev = AUDIT_GENESIS;
  let expectedSeq = 1;
  for (const e of entries) {
    if (e.seq !== expectedSeq || e.prev_hash !== prev || auditHash(e) !== e.hash) return e.seq;
    prev = e.hash;
    expectedSeq += 1;
  }
  return null;
}

/** The next link of the server-level chain after `last` (its newest entry, if any). */
export function chainServerAudit<T extends Omit<ChainFields, 'agent_id' | 'seq' | 'prev_hash'>>(
  entry: T,
  last: { seq: number; hash: string } | undefined,
): T & { seq: number; prev_hash: string; hash: string } {
  const seq = (last?.seq ?? 0) + 1;
  const prev_hash = last?.hash ?? AUDIT_GENESIS;
  return { ...entry, seq, prev_hash, hash: auditHash({ ...entry, agent_id: SERVER_AUDIT_SUBJECT, seq, prev_hash }) };
}

/** findBrokenLink for the server-level chain. */
export function findBrokenServerLink(entries: readonly (Omit<ChainFields, 'agent_id'> & { hash: string })[]): number | null {
  return findBrokenLink(entries.map((e) => ({ ...e, agent_id: SERVER_AUDIT_SUBJECT })));
}
