/**
 * GET /metrics — what operators alert on, in the Prometheus text format, with no per-agent data:
 * response classes, per-route latency histograms, open streams and waiting long-polls, and the webhook outbox (queue depth,
 * due now, dead letters, age of the oldest queued delivery). The outbox figures are read from the
 * store at each scrape, so every instance on a shared database reports the same, whole-server values.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/types.js';

/** Seconds. Long-polls and streams land in the top buckets by design (they wait). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export function registerMetrics(app: FastifyInstance, openStreams: () => number, waitingLongPolls: () => number, store: Store): void {
  const byClass = new Map<string, number>();
  const latency = new Map<string, Histogram>();
  app.addHook('onResponse', async (req, reply) => {
    const cls = `${Math.floor(reply.statusCode / 100)}xx`;
    byClass.set(cls, (byClass.get(cls) ?? 0) + 1);
    // The route template, never the raw URL: ids would make the label set unbounded.
    const route = req.routeOptions.url ?? 'unmatched';
    const key = `method="${req.method}",route="${route}"`;
    let h = latency.get(key);
    if (!h) latency.set(key, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    const seconds = reply.elapsedTime / 1000;
    BUCKETS.forEach((le, i) => seconds <= le && (h.counts[i]! += 1));
    h.sum += seconds;
    h.count += 1;
  });
  app.get('/metrics', async (_req, reply) => {
    const outbox = await store.deliveryStats(new Date().toISOString());
    const oldestAge = outbox.oldest_pending_at ? Math.max(0, (Date.now() - Date.parse(outbox.oldest_pending_at)) / 1000) : 0;
    const lines = [
      ...metric(
        'amtp_http_responses_total',
        'counter',
        'HTTP responses by status class.',
        [...byClass].map(([cls, n]) => [`class="${cls}"`, n]),
      ),
      '# HELP amtp_http_request_duration_seconds Time to answer, by method and route template.',
      '# TYPE amtp_http_request_duration_seconds histogram',
      ...[...latency].flatMap(([labels, h]) => [
        ...BUCKETS.map((le, i) => `amtp_http_request_duration_seconds_bucket{${labels},le="${le}"} ${h.counts[i]}`),
        `amtp_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`,
        `amtp_http_request_duration_seconds_sum{${labels}} ${h.sum}`,
        `amtp_http_request_duration_seconds_count{${labels}} ${h.count}`,
      ]),
      ...metric('amtp_streams_open', 'gauge', 'Open SSE streams on this instance.', [['', openStreams()]]),
      ...metric('amtp_long_polls_waiting', 'gauge', 'Inbox long-polls waiting for mail on this instance.', [['', waitingLongPolls()]]),
      ...metric('amtp_webhook_deliveries_pending', 'gauge', 'Webhook outbox queue depth: deliveries not yet delivered or dead-lettered.', [
        ['', outbox.pending],
      ]),
      ...metric(
        'amtp_webhook_deliveries_due',
        'gauge',
        'Queued deliveries due now and not leased by a worker (a growing value means the workers fall behind).',
        [['', outbox.due]],
      ),
      ...metric(
        'amtp_webhook_deliveries_dead',
        'gauge',
        'Dead letters: deliveries that exhausted their retries (kept until event retention removes them).',
        [['', outbox.dead]],
      ),
      ...metric('amtp_webhook_oldest_pending_age_seconds', 'gauge', 'Age of the oldest queued delivery; 0 when the queue is empty.', [
        ['', Math.round(oldestAge)],
      ]),
      ...metric('process_resident_memory_bytes', 'gauge', 'Resident memory.', [['', process.memoryUsage.rss()]]),
      ...metric('process_uptime_seconds', 'gauge', 'Seconds since the process started.', [['', Math.round(process.uptime())]]),
      ...metric(
        'nodejs_heap_used_bytes',
        'gauge',
        'JavaScript heap in use (SQLite page caches and mmap are outside it, in resident memory).',
        [['', process.memoryUsage().heapUsed]],
      ),
    ];
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
}

function metric(name: string, type: 'counter' | 'gauge', help: string, samples: [labels: string, value: number][]): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    ...samples.map(([labels, v]) => `${name}${labels ? `{${labels}}` : ''} ${v}`),
  ];
}
