/**
 * Serves the built web UI (web/dist) at `/`, with the single-page fallback to index.html. API paths
 * are never shadowed: unknown ones still get the JSON 404.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { noEndpoint } from './errors.js';

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
      return reply.code(404).send(noEndpoint('GET', path).toJSON());
    }
    const file = normalize(join(root, path));
    const found = file.startsWith(root) && existsSync(file) && statSync(file).isFile();
    // Only page routes fall back to the app: a missing file (favicon.ico, a stale asset) is a 404.
    if (!found && extname(path) !== '') return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('Not found');
    const target = found ? file : index;
    const immutable = target.includes(`${root}/assets/`);
    const encoding = precompressed(target, String(req.headers['accept-encoding'] ?? ''));
    if (encoding) reply.header('content-encoding', encoding.name);
    return reply
      .header('vary', 'accept-encoding')
      .header('content-type', TYPES[extname(target)] ?? 'application/octet-stream')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header(
        'content-security-policy',
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
      )
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .send(readFileSync(encoding ? encoding.file : target));
  });
}

/** The build writes .br and .gz next to each text asset; pick the best one the client accepts. */
function precompressed(file: string, acceptEncoding: string): { name: string; file: string } | null {
  for (const [name, ext] of [
    ['br', '.br'],
    ['gzip', '.gz'],
  ] as const) {
    if (new RegExp(`\\b${name}\\b`).test(acceptEncoding) && existsSync(file + ext)) return { name, file: file + ext };
  }
  return null;
}
