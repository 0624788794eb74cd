/**
 * /mcp over Streamable HTTP, stateless: every POST gets a fresh server and transport, authenticated
 * from its own Authorization header (never from a session id), so any instance can serve any request.
 * Origin and Host are checked against the server's own names (DNS-rebinding protection).
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bindsLoopbackOnly } from '../config.js';
import type { Mailbox } from '../core/mailbox.js';
import { AmtpError } from '../protocol/errors.js';
import { findJsonProblem, MAX_JSON_DEPTH } from '../protocol/json-input.js';
import { buildMcpServer } from './server.js';

const VERSION = '1.0.0';
/** `params.arguments` of a tools/call sits below the message (1) and its params (2). */
const TOOL_ARGUMENTS_LEVEL = 2;

export function registerMcp(app: FastifyInstance, core: Mailbox, bearer: (req: FastifyRequest) => string | undefined): void {
  void app.register(async (scope) => mount(scope, core, bearer));
}

function mount(app: FastifyInstance, core: Mailbox, bearer: (req: FastifyRequest) => string | undefined): void {
  const guard = hostGuard(core);
  // Tool arguments named __proto__/constructor are dropped rather than failing the whole transport
  // request: what remains is validated per tool and refused as a tool error with a code.
  const parse = app.getDefaultJsonParser('remove', 'remove');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    body === '' ? done(null, undefined) : parse(req, body as string, done),
  );

  app.post('/mcp', async (req, reply) => {
    const refusal = guard(req);
    if (refusal) return rpcError(reply, 403, refusal);
    // Batches were removed from MCP (revision 2025-06-18); one message per POST keeps limits per call.
    if (Array.isArray(req.body)) return rpcError(reply, 400, 'JSON-RPC batches are not accepted: send one message per POST.', -32600);
    // Depth is checked here, before the SDK walks the message; tool arguments meet the whole input
    // rule in the tool layer, counted from their own root as a REST body is, and fail as tool errors.
    const problem = findJsonProblem(req.body, { maxDepth: MAX_JSON_DEPTH + TOOL_ARGUMENTS_LEVEL, depthOnly: true });
    if (problem) {
      const id = (req.body as { id?: unknown } | undefined)?.id;
      const message = `Invalid message: ${problem.path} nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects, counted from the tool arguments (the limit).`;
      return rpcError(reply, 400, message, -32602, typeof id === 'string' || typeof id === 'number' ? id : null, {
        code: 'invalid_request',
      });
    }
    const key = bearer(req);
    let caller = null;
    let authError: AmtpError | null = null;
    if (key !== undefined || req.headers.authorization !== undefined) {
      try {
        caller = await core.identity.authenticate(key);
      } catch (error) {
        authError = error as AmtpError;
      }
    }
    const server = buildMcpServer(core, { caller, authError, ip: req.ip }, VERSION);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.once('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    reply.hijack();
    await transport.handleRequest(req.raw, reply.raw, req.body);
  });

  const notAllowed = async (_req: FastifyRequest, reply: FastifyReply) =>
    rpcError(reply.header('allow', 'POST'), 405, 'This MCP endpoint is stateless: send JSON-RPC requests with POST.');
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);
}

function rpcError(reply: FastifyReply, status: number, message: string, code = -32000, id: string | number | null = null, data?: object) {
  return reply.code(status).send({ jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id });
}

/**
 * Allowed Host values: the public URL's host, AMTP_MCP_ALLOWED_HOSTS (`*`: any), and — when the server
 * listens on loopback — localhost/127.0.0.1/[::1]. A server bound beyond loopback with none of these
 * set refuses to start (assertHostsConfigured). An Origin, when present, must be one of those hosts'
 * origins or be listed in AMTP_MCP_ALLOWED_ORIGINS.
 */
function hostGuard(core: Mailbox): (req: FastifyRequest) => string | null {
  const { config } = core;
  const hosts = new Set(config.mcp.allowedHosts.map((h) => h.toLowerCase()));
  if (config.publicUrl) hosts.add(new URL(config.publicUrl).host.toLowerCase());
  const loopback = bindsLoopbackOnly(config);
  const origins = new Set(config.mcp.allowedOrigins.map((o) => o.toLowerCase()));
  if (config.publicUrl) origins.add(new URL(config.publicUrl).origin.toLowerCase());

  const hostAllowed = (host: string) => {
    const h = host.toLowerCase();
    if (hosts.has(h) || hosts.has('*')) return true;
    return loopback && /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(h);
  };
  return (req) => {
    const host = req.headers.host ?? '';
    if (!hostAllowed(host)) return `Host "${host}" is not served here. Set AMTP_PUBLIC_URL or AMTP_MCP_ALLOWED_HOSTS.`;
    const origin = req.headers.origin;
    if (origin === undefined) return null;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return 'The Origin header is malformed.';
    }
    // Same-origin — scheme, host and port, the whole origin — or explicitly allowed.
    if (origins.has(parsed.origin.toLowerCase()) || parsed.origin === originOf(req.protocol, host)) return null;
    return `Origin "${origin}" is not allowed to use this MCP endpoint.`;
  };
}

/** The origin a request was addressed to (default ports dropped, as in an Origin header), or null. */
function originOf(protocol: string, host: string): string | null {
  try {
    return new URL(`${protocol}://${host}`).origin;
  } catch {
    return null;
  }
}
