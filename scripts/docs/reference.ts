/**
 * Renders the endpoint and error-code reference of docs/SPEC.md from the operation table, the wire
 * schemas and the error table, so the spec cannot drift from the code (test/docs.test.ts checks it).
 */
import { z } from 'zod';
import { OPERATION_SPECS } from '../../src/protocol/operation-schemas.js';
import { ERRORS } from '../../src/protocol/errors.js';
import { AuditAction } from '../../src/protocol/schemas.js';
import { vectorsReference } from './vectors.js';

type JsonSchema = Record<string, any>;

const toJson = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => z.toJSONSchema(schema, { io, unrepresentable: 'any' });

function typeOf(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v: unknown) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (s.type === 'array') return `${typeOf(s.items ?? {})}[]`;
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  return s.type ?? 'any JSON';
}

function notes(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.description) parts.push(s.description);
  if (s.pattern) parts.push(`pattern \`${s.pattern}\``);
  if (s.minLength !== undefined || s.maxLength !== undefined) parts.push(`length ${s.minLength ?? 0}–${s.maxLength ?? '∞'}`);
  if (s.minimum !== undefined || s.maximum !== undefined) parts.push(`range ${s.minimum ?? '−∞'}–${s.maximum ?? '∞'}`);
  if (s.minItems !== undefined || s.maxItems !== undefined) parts.push(`${s.minItems ?? 0}–${s.maxItems ?? '∞'} items`);
  if (s.default !== undefined) parts.push(`default \`${JSON.stringify(s.default)}\``);
  if (s.items?.pattern) parts.push(`each: pattern \`${s.items.pattern}\``);
  return parts.join('; ').replace(/\|/g, '\\|');
}

function fieldTable(schema: JsonSchema, title: string): string {
  const props = Object.entries<JsonSchema>(schema.properties ?? {});
  if (props.length === 0) return '';
  const required = new Set<string>(schema.required ?? []);
  const rows = props.map(([name, s]) => `| \`${name}\` | ${typeOf(s)} | ${required.has(name) ? 'yes' : 'no'} | ${notes(s)} |`);
  return `${title}\n\n| field | type | required | notes |\n|---|---|---|---|\n${rows.join('\n')}\n\n`;
}

export function endpointReference(): string {
  return OPERATION_SPECS.map((r) => {
    const head = `### \`${r.method} ${r.path}\`\n\n${r.summary} Auth: ${r.auth === 'agent' ? 'Bearer API key' : 'none (public)'}. Success: \`${r.status ?? 200}\`.\n\n`;
    return (
      head +
      (r.params ? fieldTable(toJson(r.params, 'input'), 'Path parameters:') : '') +
      (r.query ? fieldTable(toJson(r.query, 'input'), 'Query parameters:') : '') +
      (r.body ? fieldTable(toJson(r.body, 'input'), 'Body (JSON):') : '') +
      fieldTable(toJson(r.response, 'output'), 'Response:')
    );
  }).join('');
}

export function errorReference(): string {
  const rows = Object.entries(ERRORS).map(([code, [status, meaning]]) => `| \`${code}\` | ${status} | ${meaning} |`);
  return `| code | HTTP | meaning |\n|---|---|---|\n${rows.join('\n')}\n`;
}

export const auditActionsReference = () => `${AuditAction.options.map((a) => `\`${a}\``).join(', ')}.\n`;

export const BLOCKS = {
  endpoints: endpointReference,
  errors: errorReference,
  'audit-actions': auditActionsReference,
  vectors: vectorsReference,
} as const;

/** Replaces every `<!-- generated:NAME -->…<!-- /generated:NAME -->` block with fresh content. */
export function renderSpec(spec: string): string {
  let out = spec;
  for (const [name, render] of Object.entries(BLOCKS)) {
    const re = new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`docs/SPEC.md has no generated:${name} block`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}${render()}${close}`);
  }
  return out;
}
