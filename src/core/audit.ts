/** The tamper-evident audit log: listing and chain verification. */
import { findBrokenLink } from '../protocol/audit-chain.js';
import type { AuditEntry, AuditVerifyOutput } from '../protocol/schemas.js';
import type { AuditRecord } from '../store/types.js';
import type { Caller, CoreDeps } from './deps.js';
import { decodeCursor, encodeCursor } from './ids.js';
import { AmtpError } from '../protocol/errors.js';

export class Audit {
  constructor(private readonly deps: CoreDeps) {}

  async list(caller: Caller, q: { limit: number; cursor?: string }): Promise<{ entries: AuditEntry[]; next_cursor: string | null }> {
    const afterSeq = decodeCursor(q.cursor);
    if (Number.isNaN(afterSeq)) throw new AmtpError('invalid_request', 'That cursor is not valid. Use the next_cursor value from a previous page.');
    const rows = await this.deps.store.audit(caller.id, { afterSeq, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    return { entries: page.map(toEntry), next_cursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!.seq) : null };
  }

  async verify(caller: Caller): Promise<AuditVerifyOutput> {
    const rows = await this.deps.store.auditAll(caller.id);
    const broken = findBrokenLink(rows);
    return { valid: broken === null, entries: rows.length, head: rows.at(-1)?.hash ?? null, broken_at_seq: broken };
  }
}

const toEntry = (r: AuditRecord): AuditEntry => ({
  seq: r.seq,
  at: r.at,
  action: r.action,
  target_id: r.target_id,
  details: r.details,
  prev_hash: r.prev_hash,
  hash: r.hash,
});
