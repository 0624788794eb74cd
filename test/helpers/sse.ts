/** A minimal SSE client over fetch, for tests: hands out the SDK's parsed frames one by one. */
import { sseFrames } from '../../src/client/client.js';

export interface SseEvent {
  id?: string;
  event?: string;
  data: any;
}

export async function openStream(url: string, apiKey: string, lastEventId?: string) {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const res = await fetch(`${url}/api/inbox/stream`, { headers, signal: controller.signal });
  const queue: SseEvent[] = [];
  const waiters: ((e: SseEvent) => void)[] = [];
  let ended!: () => void;
  const endedPromise = new Promise<void>((resolve) => (ended = resolve));
  const pump = async () => {
    try {
      for await (const frame of sseFrames(res.body!)) {
        if (!frame.data) continue; // comments, retry hints, heartbeats
        const event: SseEvent = { id: frame.id, event: frame.event, data: JSON.parse(frame.data) };
        const waiter = waiters.shift();
        if (waiter) waiter(event);
        else queue.push(event);
      }
    } catch {
      // aborted
    } finally {
      ended();
    }
  };
  if (res.ok) void pump();
  return {
    status: res.status,
    response: res,
    next(timeoutMs = 5000): Promise<SseEvent> {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no SSE event within the time limit')), timeoutMs);
        waiters.push((e) => {
          clearTimeout(timer);
          resolve(e);
        });
      });
    },
    pending: () => queue.length,
    /** Resolves when the server has ended the stream (or it was closed here). */
    ended: endedPromise,
    close: () => controller.abort(),
  };
}
