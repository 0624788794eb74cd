/** The OpenAPI document, generated from the operation table (src/protocol/operations.ts) and its wire schemas. */
import { z } from 'zod';
import { ERRORS } from '../protocol/errors.js';
import { PROTOCOL_VERSION } from '../protocol/schemas.js';
import { OPERATION_SPECS, type OperationSpec } from '../protocol/operation-schemas.js';

const json = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;

export function openApiDocument(operations: readonly OperationSpec[] = OPERATION_SPECS, serverUrl: string | null = null) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of operations) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const parameters = [
      ...Object.entries(r.params ? ((json(r.params, 'input').properties as Record<string, unknown> | undefined) ?? {}) : {}).map(
        ([name, schema]) => ({ name, in: 'path', required: true, schema }),
      ),
      ...Object.entries(r.query ? ((json(r.query, 'input').properties as Record<string, unknown> | undefined) ?? {}) : {}).map(
        ([name, schema]) => ({ name, in: 'query', schema }),
      ),
    ];
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      security: r.auth === 'agent' ? [{ bearer: [] }] : [],
      parameters,
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(r.body, 'input') } } } } : {}),
      responses: {
        [String(r.status ?? 200)]: { description: 'OK', content: { 'application/json': { schema: json(r.response, 'output') } } },
        default: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'AMTP — Agent Mail Transfer Protocol', version: PROTOCOL_VERSION },
    servers: serverUrl ? [{ url: serverUrl }] : [],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The agent API key (a2a_sk_…)' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string', enum: Object.keys(ERRORS) }, message: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}
