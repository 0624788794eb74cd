/** The tamper-evident audit log: listing and chain verification. */
import { findBrokenLink } from '../protocol/audit-chain.js';
import type { AuditEntry, AuditVerifyOutput } from '../protocol/schemas.js';
import type { AuditRecord } from '../store/types.js';
import type { Caller, CoreDeps } from './context.js';
import { pageOf, parseCursor } from './pages.js';

export class Audit {
  constructor(private readonly deps: CoreDeps) {}

  async list(caller: Caller, q: { limit: number; cursor?: string }): Promise<{ entries: AuditEntry[]; next_cursor: string | null }> {
    const rows = await this.deps.store.audit(caller.id, { afterSeq: parseCursor(q.cursor), limit: q.limit + 1 });
    const { page, next_cursor } = pageOf(rows, q.limit);
    return { entries: page.map(toEntry), next_cursor };
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
