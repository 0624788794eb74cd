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
import { buildMcpServer } from './server.js';

const VERSION = '1.0.0';

export function registerMcp(app: FastifyInstance, core: Mailbox, bearer: (req: FastifyRequest) => string | undefined): void {
  void app.register(async (scope) => mount(scope, core, bearer));
}

function mount(app: FastifyInstance, core: Mailbox, bearer: (req: FastifyRequest) => string | undefined): void {
  const guard = hostGuard(core);
  // Tool arguments named __proto__/constructor are dropped rather than failing the whole transport
  // request: what remains is validated per tool and refused as a tool error with a code.
  const parse = app.getDefaultJsonParser('remove', 'remove');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => (body === '' ? done(null, undefined) : parse(req, body as string, done)));

  app.post('/mcp', async (req, reply) => {
    const refusal = guard(req);
    if (refusal) return rpcError(reply, 403, refusal);
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

function rpcError(reply: FastifyReply, status: number, message: string) {
  return reply.code(status).send({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
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
    // Same-origin (its host already passed the Host check) or explicitly allowed.
    if (origins.has(parsed.origin.toLowerCase()) || parsed.host.toLowerCase() === host.toLowerCase()) return null;
    return `Origin "${origin}" is not allowed to use this MCP endpoint.`;
  };
}
