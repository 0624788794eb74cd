/** SQLite's errors as StoreErrors, and as they cross from the writer thread. */
import { StoreError, type StoreErrorKind } from '../types.js';

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
