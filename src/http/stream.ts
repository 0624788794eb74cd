/**
 * GET /api/inbox/stream — Server-Sent Events. Every event carries its per-agent sequence number as
 * the SSE id; reconnecting with Last-Event-ID replays exactly what followed it. Live events arrive
 * through the same notifier that wakes long-polls, and are always read back from the durable event
 * log, so a stream never shows an event that is not committed and never skips one.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { currentCaller, type Caller } from '../core/context.js';
import type { Mailbox } from '../core/mailbox.js';
import { CREDENTIALS_CHANGED, CREDENTIALS_REVOKED } from '../core/notifier.js';
import { AmtpError } from '../protocol/errors.js';
import { STREAM_CLOSED, type StreamClosed } from '../protocol/stream.js';

/** Registers the stream; returns a counter of open streams (for /metrics). */
export function registerStream(app: FastifyInstance, core: Mailbox, authenticate: (req: FastifyRequest) => Promise<Caller>): () => number {
  const open = new Map<string, number>();

  app.get('/api/inbox/stream', async (req, reply) => {
    const caller = await authenticate(req);
    const cursor = parseLastEventId(req.headers['last-event-id'] ?? (req.query as Record<string, string>).last_event_id);
    const count = open.get(caller.id) ?? 0;
    if (count >= core.config.limits.maxStreamsPerAgent) {
      throw new AmtpError(
        'rate_limited',
        `At most ${core.config.limits.maxStreamsPerAgent} streams per agent are open. Close one first.`,
        undefined,
        5,
      );
    }
    open.set(caller.id, count + 1);

    let seq = cursor ?? (await core.events.head(caller));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    res.write('retry: 3000\n\n');

    let closed = false;
    let draining = false;
    let again = false;
    // The agent as stored now: a rotated delivery secret is picked up before the next MAC is made.
    let current = caller;
    let refreshing: Promise<void> = Promise.resolve();
    const drain = async () => {
      if (draining) return void (again = true);
      draining = true;
      try {
        do {
          again = false;
          await refreshing;
          for (let batch = await core.events.after(current, seq); batch.length && !closed; batch = await core.events.after(current, seq)) {
            for (const event of batch) {
              res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
              seq = event.seq;
            }
            await core.events.delivered(current, batch);
          }
        } while (again && !closed);
      } catch (err) {
        req.log.error({ err }, 'stream drain failed');
        res.end();
      } finally {
        draining = false;
      }
    };

    // A rotated or reset key, a deleted or suspended agent: the stream ends with a last frame that
    // says why (the SDK raises it as an error with that code).
    let reason = 'credentials_changed';
    const endWith = (error: AmtpError) => {
      if (closed || res.writableEnded) return;
      const last: StreamClosed = { code: error.code, reason, message: error.message };
      res.end(`event: ${STREAM_CLOSED}\ndata: ${JSON.stringify(last)}\n\n`);
    };
    const refresh = () =>
      (refreshing = currentCaller(core.store, current).then(
        (now) => void (current = now),
        (err) => (err instanceof AmtpError ? endWith(err) : req.log.warn({ err }, 'stream credential check failed')),
      ));
    const unsubscribe = core.notifier.subscribe(caller.id, (event) => {
      if (event.type === 'shutdown') res.end();
      else if (event.type === CREDENTIALS_REVOKED || event.type === CREDENTIALS_CHANGED) {
        reason = (event.data as { reason?: string } | undefined)?.reason ?? reason;
        void refresh();
      } else void drain();
    });
    // Each heartbeat also re-reads the agent, in case a wake-up from another instance was lost.
    const heartbeat = setInterval(() => {
      res.write(': ping\n\n');
      void refresh();
    }, core.config.streamHeartbeatSeconds * 1000);
    res.once('close', () => {
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      const left = (open.get(caller.id) ?? 1) - 1;
      if (left > 0) open.set(caller.id, left);
      else open.delete(caller.id);
    });
    await drain();
  });
  return () => [...open.values()].reduce((a, b) => a + b, 0);
}

function parseLastEventId(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  throw new AmtpError('invalid_request', 'Last-Event-ID must be the numeric id of an event this stream sent.');
}
