/**
 * The server-to-server endpoints (SPEC §19): outside the operation table, because servers, not
 * agents, call them, authenticated by RFC 9421 signatures over the body exactly as received.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Mailbox } from '../core/mailbox.js';
import type { InboundRequest } from '../core/federation.js';
import { FEDERATION_PATH } from '../core/federation.js';

export function registerFederation(app: FastifyInstance, core: Mailbox): void {
  void app.register(async (scope) => {
    // The signature covers the body's digest: keep it as the bytes arrived, parse it only after verifying.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post(`${FEDERATION_PATH}/inbox`, async (req, reply) => reply.code(202).send(await core.federation.receive(inbound(req))));
    scope.post(`${FEDERATION_PATH}/resolve`, async (req) => core.federation.resolve(inbound(req)));
  });
}

function inbound(req: FastifyRequest): InboundRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name.toLowerCase()] = value;
  return { method: req.method, path: req.url, headers, body: typeof req.body === 'string' ? req.body : '' };
}
