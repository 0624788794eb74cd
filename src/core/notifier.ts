/**
 * Wake-ups for long-polls (and, later, streams). In one process an in-memory fan-out is enough; a
 * multi-instance backend replaces `publish` transport but keeps this interface.
 */
export interface MailboxEvent {
  type: string;
  agent_id: string;
  data?: unknown;
}

type Listener = (event: MailboxEvent) => void;

export class Notifier {
  private readonly listeners = new Map<string, Set<Listener>>();
  private closed = false;

  publish(event: MailboxEvent): void {
    for (const listener of this.listeners.get(event.agent_id) ?? []) listener(event);
  }

  subscribe(agentId: string, listener: Listener): () => void {
    let set = this.listeners.get(agentId);
    if (!set) this.listeners.set(agentId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(agentId);
    };
  }

  /** Resolves on the agent's next event, after `ms`, on abort, or at shutdown — whichever is first. */
  wait(agentId: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = this.subscribe(agentId, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Releases every waiter (graceful shutdown). */
  close(): void {
    this.closed = true;
    for (const [agentId, set] of this.listeners) for (const l of [...set]) l({ type: 'shutdown', agent_id: agentId });
  }
}
