/**
 * One live connection per signed-in tab: the SDK's SSE stream. Every event bumps a counter that views
 * use as a dependency to refresh what they show, in place (nothing is remounted, drafts stay).
 */
import { useEffect, useState } from 'preact/hooks';
import { clientFor, type Session } from './session.js';

let tick = 0;
const listeners = new Set<(tick: number) => void>();

/** Views (and actions that change state) call this to refresh everything shown. */
export function refreshAll(): void {
  tick++;
  for (const l of listeners) l(tick);
}

/** Stream events come in bursts (300 messages at once): one refresh per burst, shortly after it. */
const BURST_MS = 150;
let pending: ReturnType<typeof setTimeout> | null = null;
function refreshSoon(): void {
  pending ??= setTimeout(() => {
    pending = null;
    refreshAll();
  }, BURST_MS);
}

/** The current live counter: re-renders the caller on every event. */
export function useLive(): number {
  const [value, setValue] = useState(tick);
  useEffect(() => {
    const l = (t: number) => setValue(t);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return value;
}

/** Runs the stream for as long as the session lasts, reconnecting after a pause. */
export function useLiveStream(session: Session | null): void {
  useEffect(() => {
    if (!session) return;
    const abort = new AbortController();
    let lastEventId: number | undefined;
    void (async () => {
      while (!abort.signal.aborted) {
        try {
          // Views loaded before the stream opened (or while it was down) may have missed events: refresh once it is open.
          for await (const event of clientFor(session).stream({ signal: abort.signal, lastEventId, onOpen: refreshSoon })) {
            lastEventId = event.seq;
            refreshSoon();
          }
        } catch {
          if (abort.signal.aborted) return;
        }
        await new Promise((r) => setTimeout(r, 3000));
      }
    })();
    return () => abort.abort();
  }, [session?.api_key]);
}
