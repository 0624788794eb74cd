/** Row ↔ record mapping and error translation shared by the SQLite read side and its writer. */
import { StoreError, type AgentRecord, type AuditRecord, type EventRecord, type GrantRecord, type MessageRecord, type RequestRecord, type StoreErrorKind } from '../types.js';

export type Row = Record<string, unknown>;

export const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
export const parse = (value: unknown) => (value === null || value === undefined ? null : JSON.parse(value as string));

export function toAgent(r: Row | undefined): AgentRecord | null {
  return r ? { ...(r as unknown as AgentRecord), key_rotation: parse(r.key_rotation) } : null;
}
export function toGrant(r: Row): GrantRecord {
  return { ...(r as unknown as GrantRecord), scopes: JSON.parse(r.scopes as string) };
}
export function toRequest(r: Row): RequestRecord {
  return { ...(r as unknown as RequestRecord), scopes: JSON.parse(r.scopes as string) };
}
export function toMessage(r: Row): MessageRecord {
  return { ...(r as unknown as MessageRecord), payload: parse(r.payload), sealed: parse(r.sealed), sealed_for_sender: parse(r.sealed_for_sender) };
}
export function toEvent(r: Row): EventRecord {
  return { ...(r as unknown as EventRecord), data: JSON.parse(r.data as string) };
}
export function toAudit(r: Row): AuditRecord {
  return { ...(r as unknown as AuditRecord), details: JSON.parse(r.details as string) };
}

export function translateError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    if (message.includes('agents.name')) return new StoreError('name_taken', 'name already taken', error);
    return new StoreError('duplicate', message, error);
  }
  if (/^SQLITE_(FULL|BUSY|LOCKED|IOERR|READONLY|CANTOPEN|PROTOCOL|NOMEM)/.test(code)) {
    return new StoreError('unavailable', `storage unavailable (${code})`, error);
  }
  return error;
}

/** An error as it crosses from the writer thread: a StoreError keeps its kind; anything else, its code. */
export interface WireError {
  kind?: StoreErrorKind;
  code?: string;
  message: string;
}

export function toWireError(error: unknown): WireError {
  const e = translateError(error);
  if (e instanceof StoreError) return { kind: e.kind, message: e.message };
  return { code: (e as { code?: string }).code, message: (e as Error)?.message ?? String(e) };
}

export function fromWireError(w: WireError): Error {
  return w.kind ? new StoreError(w.kind, w.message) : Object.assign(new Error(w.message), { code: w.code });
}
