/** GET /metrics — a few operational figures in the Prometheus text format (no per-agent data). */
import type { FastifyInstance } from 'fastify';

export function registerMetrics(app: FastifyInstance, openStreams: () => number): void {
  const byClass = new Map<string, number>();
  app.addHook('onResponse', async (_req, reply) => {
    const cls = `${Math.floor(reply.statusCode / 100)}xx`;
    byClass.set(cls, (byClass.get(cls) ?? 0) + 1);
  });
  app.get('/metrics', async (_req, reply) => {
    const lines = [
      '# HELP amtp_http_responses_total HTTP responses by status class.',
      '# TYPE amtp_http_responses_total counter',
      ...[...byClass].map(([cls, n]) => `amtp_http_responses_total{class="${cls}"} ${n}`),
      '# HELP amtp_streams_open Open SSE streams.',
      '# TYPE amtp_streams_open gauge',
      `amtp_streams_open ${openStreams()}`,
      '# HELP process_resident_memory_bytes Resident memory.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
      '# HELP process_uptime_seconds Seconds since the process started.',
      '# TYPE process_uptime_seconds gauge',
      `process_uptime_seconds ${Math.round(process.uptime())}`,
    ];
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
}
