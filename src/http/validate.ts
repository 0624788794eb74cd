import type { z } from 'zod';
import { AmtpError } from '../protocol/errors.js';

/** Parses one part of a request against its wire schema; failures are 400s that name each problem. */
export function parseInput<T>(schema: z.ZodType<T> | undefined, value: unknown, part: 'body' | 'query' | 'path'): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  const summary = issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new AmtpError('invalid_request', `Invalid ${part}: ${summary}.`, { issues });
}
