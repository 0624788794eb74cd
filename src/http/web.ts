/**
 * Serves the built web UI (web/dist) at `/`, with the single-page fallback to index.html. API paths
 * are never shadowed: unknown ones still get the JSON 404.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
const API = /^\/(api|mcp|healthz|metrics|openapi\.json|\.well-known)(\/|$|\?)/;

export function registerWeb(app: FastifyInstance, root = resolve(new URL('../../web/dist', import.meta.url).pathname)): void {
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    app.log.warn(`web UI not built (${index} missing): run "npm run build"`);
    return;
  }
  app.get('/*', async (req, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(req.url.split('?')[0] ?? '/');
    } catch {
      path = '/';
    }
    if (API.test(path)) {
      return reply.code(404).send({ error: { code: 'not_found', message: `No endpoint GET ${path}. The API is described at /openapi.json.` } });
    }
    const file = normalize(join(root, path));
    const target = file.startsWith(root) && existsSync(file) && statSync(file).isFile() ? file : index;
    const immutable = target.includes(`${root}/assets/`);
    return reply
      .header('content-type', TYPES[extname(target)] ?? 'application/octet-stream')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .send(readFileSync(target));
  });
}
