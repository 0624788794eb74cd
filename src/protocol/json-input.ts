/**
 * The one rule for every JSON value a server accepts (REST bodies, queries and path parameters, MCP
 * JSON-RPC messages, and through them stored schemas and payloads): at most MAX_JSON_DEPTH nested
 * arrays/objects, strings (keys included) that are well-formed Unicode without U+0000, and finite
 * numbers. Checked once, right after parsing, so nothing later — a storage hand-off, a signature
 * check, a database's text type — meets a value it cannot handle.
 */
import { AmtpError } from './errors.js';

/** Levels of arrays/objects counted from the document root (the root object is level 1). */
export const MAX_JSON_DEPTH = 64;

export type JsonProblem = { path: string; message: string };

/**
 * Rows stored by the server wrap input values in a few levels of their own (an event holds a message
 * holds its payload), so checks of stored data allow this much depth.
 */
export const MAX_STORED_JSON_DEPTH = 2 * MAX_JSON_DEPTH;

/** The first problem in a parsed JSON value, or null. Iterative: a deep value cannot overflow the stack. */
export function findJsonProblem(root: unknown, { maxDepth = MAX_JSON_DEPTH, depthOnly = false } = {}): JsonProblem | null {
  const problem = firstProblem(root, maxDepth, depthOnly);
  if (problem && problem.path.length > 100) problem.path = `${problem.path.slice(0, 100)}…`;
  return problem;
}

function firstProblem(root: unknown, maxDepth: number, depthOnly: boolean): JsonProblem | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (depthOnly && (value === null || typeof value !== 'object')) continue;
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem) return { path: path || '(root)', message: problem };
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { path: path || '(root)', message: 'is a number too large to represent; send it as a string' };
    } else if (value !== null && typeof value === 'object') {
      if (depth + 1 > maxDepth) {
        return { path: path || '(root)', message: `nests deeper than ${maxDepth} levels of arrays and objects (the limit)` };
      }
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      } else {
        for (const [key, child] of Object.entries(value)) {
          const keyProblem = depthOnly ? null : stringProblem(key);
          if (keyProblem) return { path: path || '(root)', message: `has a key that ${keyProblem}` };
          stack.push({ value: child, path: path ? `${path}.${key}` : key, depth: depth + 1 });
        }
      }
    }
  }
  return null;
}

function stringProblem(s: string): string | null {
  if (!s.isWellFormed()) return 'is not well-formed Unicode (a lone surrogate); send valid UTF-16/UTF-8 text';
  if (s.includes('\u0000')) return 'contains U+0000 (NUL), which is not accepted in any text';
  return null;
}

/** Throws `400 invalid_request` naming the field and the rule when a value breaks the rule. */
export function assertJsonInput(value: unknown, part: string): void {
  const problem = findJsonProblem(value);
  if (problem) {
    throw new AmtpError('invalid_request', `Invalid ${part}: ${problem.path} ${problem.message}.`, {
      issues: [{ path: problem.path, message: problem.message }],
    });
  }
}
