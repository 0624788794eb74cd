/**
 * One live connection per signed-in tab: the SDK's SSE stream. Every event bumps a counter that views
 * use as a dependency to refresh what they show, in place (nothing is remounted, drafts stay).
 */
import { useEffect, useState } from 'preact/hooks';
import type { StreamEvent } from '../../src/protocol/schemas.js';
import { clientFor, type Session } from './session.js';

let tick = 0;
const listeners = new Set<(tick: number, event?: StreamEvent) => void>();

/** Views (and actions that change state) call this to refresh everything shown. */
export function refreshAll(event?: StreamEvent): void {
  tick++;
  for (const l of listeners) l(tick, event);
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
    (async () => {
      while (!abort.signal.aborted) {
        try {
          for await (const event of clientFor(session).stream({ signal: abort.signal })) refreshAll(event);
        } catch {
          if (abort.signal.aborted) return;
        }
        await new Promise((r) => setTimeout(r, 3000));
      }
    })();
    return () => abort.abort();
  }, [session?.api_key]);
}
