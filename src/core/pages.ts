/** Pagination: opaque cursors over the store's sequence numbers, and pages fetched with one extra row. */
import { AmtpError } from '../protocol/errors.js';

const encodeCursor = (seq: number) => Buffer.from(`s:${seq}`).toString('base64url');

/** The sequence number a cursor stands for (none: the first page); 400 for one this server did not hand out. */
export function parseCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const m = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new AmtpError('invalid_request', 'That cursor is not valid. Use the next_cursor value from a previous page.');
  return Number(m[1]);
}

/** Rows read with `limit + 1` → the page, and the cursor of the next one (null on the last page). */
export function pageOf<T extends { seq: number }>(rows: T[], limit: number): { page: T[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  return { page, next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null };
}
