import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AmtpError } from '../protocol/errors.js';
import { assertJsonInput } from '../protocol/json-input.js';

type Done = (err: Error | null, body?: unknown) => void;

/**
 * Fastify's JSON parser followed by the input rule every JSON value must meet (depth, Unicode, NUL,
 * finite numbers): a value that breaks it is refused here, before any handler sees it. An empty body
 * means "no fields" (POST /approve, /rotate…), not a syntax error.
 */
export function checkedJsonParser(app: FastifyInstance, onForbiddenKey: 'error' | 'remove', part: string) {
  const parse = app.getDefaultJsonParser(onForbiddenKey, onForbiddenKey);
  return (req: FastifyRequest, body: string | Buffer, done: Done) => {
    if (body === '') return done(null, undefined);
    void parse(req, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err);
      try {
        assertJsonInput(value, part);
      } catch (error) {
        return done(error as Error);
      }
      done(null, value);
    });
  };
}

/** Parses one part of a request against its wire schema; failures are 400s that name each problem. */
export function parseInput<T>(schema: z.ZodType<T> | undefined, value: unknown, part: 'body' | 'query' | 'path'): T {
  if (!schema) return undefined as T;
  if (part !== 'body') assertJsonInput(value, part);
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  const summary = issues
    .slice(0, 3)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
  throw new AmtpError('invalid_request', `Invalid ${part}: ${summary}.`, { issues });
}
