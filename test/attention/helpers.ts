/** Shared by the attention suites: a clock-driven server, and waiting on the outbox without sleeping for fixed times. */
import type { TestServer } from '../helpers/server.js';

/** Wakes the server's outbox worker now (it also polls on its own), as a commit would. */
export function wakeWorker(t: TestServer): void {
  t.server.core.notifier.publish({ type: 'clock.advanced', agent_id: '' });
}

/** Polls `check` (waking the worker each time) until it returns a truthy value, or fails after a bounded wait. */
export async function eventually<T>(
  t: TestServer,
  check: () => Promise<T | null | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    wakeWorker(t);
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The agent's events of one type, oldest first, as stored (what the stream replays and the webhook pushes). */
export async function eventsOf(t: TestServer, agentId: string, type: string): Promise<Record<string, unknown>[]> {
  const rows = await t.sql('SELECT data FROM events WHERE agent_id = ? AND type = ? ORDER BY seq', agentId, type);
  return rows.map((r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>);
}
