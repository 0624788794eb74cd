/**
 * The HTTP adapter: Fastify, the route table, auth, error mapping. No mailbox rule lives here, and
 * nothing is wired here: the server is built from an app (`src/app.ts`, the composition root).
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createApp, type AmtpApp } from '../app.js';
import { assertHostsConfigured, type Config } from '../config.js';
import type { Mailbox } from '../core/mailbox.js';
import { PROTOCOL_VERSION } from '../protocol/schemas.js';
import type { Store } from '../store/types.js';
import { noEndpoint, toApiError } from './errors.js';
import { openApiDocument } from './openapi.js';
import type { RouteDef } from './route.js';
import { routes } from './routes.js';
import { registerStream } from './stream.js';
import { registerMetrics } from './metrics.js';
import { registerWeb } from './web.js';
import { registerFederation } from './federation.js';
import { registerMcp } from '../mcp/http.js';
import { registerA2A } from './a2a.js';
import { checkedJsonParser, parseInput } from './validate.js';

export interface AmtpServer {
  app: FastifyInstance;
  core: Mailbox;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Graceful: releases long-polls, finishes in-flight requests, closes the app (and so the store). */
  close(): Promise<void>;
}

/** The app built from `config` (see `createApp`), served over HTTP. */
export async function createServer(config: Config, options: { store?: Store } = {}): Promise<AmtpServer> {
  assertHostsConfigured(config);
  return buildServer(await createApp(config, options));
}

/** Fastify over `root`; listening starts the app's background work, closing shuts the app down after Fastify. */
export function buildServer(root: AmtpApp): AmtpServer {
  const { config, core, store } = root;
  assertHostsConfigured(config);
  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel, redact: ['req.headers.authorization'] },
    // One access line per request (logRequest below) instead of Fastify's "incoming" + "completed" pair.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.maxRequestBytes,
    trustProxy: fastifyTrustProxy(config.trustProxy),
    routerOptions: { maxParamLength: 200 },
    forceCloseConnections: 'idle',
    // Errors raised before routing (a malformed URL, say) get the same JSON shape as all others.
    frameworkErrors: (err, _req, reply) => {
      const e = toApiError(err);
      void (reply as FastifyReply).code(e.status).send(e.toJSON());
    },
    return503OnClosing: true,
  });

  // An empty JSON body means "no fields" (POST /approve, /rotate…), not a syntax error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, checkedJsonParser(app, 'error', 'body'));

  app.setErrorHandler((err, req, reply) => {
    const e = toApiError(err, config.limits);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    if (e.retryAfter) void reply.header('retry-after', String(e.retryAfter));
    void reply.code(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(noEndpoint(req.method, req.url.split('?')[0]!).toJSON());
  });
  if (config.logLevel !== 'silent') app.addHook('onRequest', logRequest);
  app.addHook('onSend', async (_req, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
  });

  for (const def of routes) registerRoute(app, core, def);
  const openStreams = registerStream(app, core, (req) => core.identity.authenticate(bearerToken(req)));
  registerMetrics(app, openStreams, () => core.notifier.waiting(), store);
  registerMcp(app, core, bearerToken);
  registerFederation(app, core);
  registerWeb(app);

  const baseUrl = (req: FastifyRequest) => config.publicUrl ?? `${req.protocol}://${req.host}`;
  registerA2A(app, core, baseUrl, bearerToken);
  app.get('/healthz', async () => {
    await store.agentById('a2a_00000000000000000000000000000000');
    return { status: 'ok', store: store.dialect };
  });
  app.get('/.well-known/amtp', async (req, reply) => {
    // Peers cache it (the federation keys) with HTTP caching semantics.
    void reply.header('cache-control', 'public, max-age=300');
    return {
      server: config.serverName,
      protocol: 'amtp',
      protocol_version: PROTOCOL_VERSION,
      api_base: `${baseUrl(req)}/api`,
      mcp_endpoint: `${baseUrl(req)}/mcp`,
      registration: config.registration,
      features: [
        'consent',
        'scopes',
        'capabilities',
        'typed-intents',
        'long-poll',
        'sse',
        'webhooks',
        'read-receipts',
        'audit-chain',
        'a2a',
        'digest',
        'reply-by',
        'quiet-hours',
        'processed-receipts',
      ],
      limits: {
        max_message_bytes: config.limits.maxMessageBytes,
        max_request_bytes: config.limits.maxRequestBytes,
        send_per_minute: config.limits.sendPerMinute,
        pair_per_minute: config.limits.pairPerMinute,
        max_wait_seconds: config.limits.maxWaitSeconds,
      },
      ...(core.federation.enabled ? { federation: await core.federation.wellKnown() } : {}),
    };
  });
  app.get('/openapi.json', async (req) => openApiDocument(routes, baseUrl(req)));

  return {
    app,
    core,
    async listen() {
      if (config.limits.maxConnections) app.server.maxConnections = config.limits.maxConnections;
      const url = await app.listen({ host: config.host, port: config.port });
      root.start(app.log);
      return url;
    },
    async close() {
      // Long-polls and streams are released first, so Fastify's close does not wait for them.
      await root.stop();
      await app.close();
      await root.close();
    },
  };
}

function registerRoute(app: FastifyInstance, core: Mailbox, def: RouteDef): void {
  app.route({
    method: def.method,
    url: def.url,
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      // Authentication first: an anonymous caller learns nothing, not even which input would be valid.
      const caller = def.auth === 'agent' ? await core.identity.authenticate(bearerToken(req)) : null;
      let aborted: AbortController | undefined;
      const result = await def.handler({
        core,
        caller,
        body: parseInput(def.body, req.body, 'body'),
        query: parseInput(def.query, req.query, 'query'),
        params: parseInput(def.params, req.params, 'path'),
        ip: req.ip,
        // Made on demand (long-polls): an AbortController per request costs ~5 % of a send.
        get signal() {
          if (!aborted) {
            aborted = new AbortController();
            reply.raw.once('close', () => reply.raw.writableFinished || aborted!.abort());
          }
          return aborted.signal;
        },
      });
      return reply.code(def.status ?? 200).send(result);
    },
  });
}

/**
 * Logs each request once, when its response ends or its connection closes — hijacked replies
 * (SSE streams, /mcp) included.
 */
function logRequest(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.raw.once('close', () => {
    req.log.info(
      { req, res: reply, responseTime: reply.elapsedTime },
      reply.raw.writableFinished ? 'request completed' : 'request aborted',
    );
  });
  done();
}

/** A hop count becomes the function proxy-addr would build from it (Fastify's types take no number). */
function fastifyTrustProxy(trust: Config['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

function bearerToken(req: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}
