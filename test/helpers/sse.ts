/** A minimal SSE client over fetch, for tests: parses frames and hands them out one by one. */
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
  let buffer = '';
  const pump = async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event: SseEvent = { data: undefined };
          let data = '';
          for (const line of frame.split('\n')) {
            if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (!data) continue; // comments, retry hints, heartbeats
          event.data = JSON.parse(data);
          const waiter = waiters.shift();
          if (waiter) waiter(event);
          else queue.push(event);
        }
      }
    } catch {
      // aborted
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
    close: () => controller.abort(),
  };
}
