/**
 * Wake-ups for long-polls, streams and the delivery worker. Local waiters are woken at once, in
 * memory. When the store has a `broadcast` (PostgreSQL), each wake-up is also sent to the other
 * instances, and theirs arrive here; an instance never receives its own back, so nobody is woken twice.
 */
import type { Broadcast, Wakeup } from '../store/types.js';

export type MailboxEvent = Wakeup;

type Listener = (event: MailboxEvent) => void;

export class Notifier {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly everyone = new Set<Listener>();
  private closed = false;
  private readonly stopListening?: () => void;

  constructor(private readonly broadcast?: Broadcast) {
    this.stopListening = broadcast?.listen((event) => (event ? this.deliver(event) : this.wakeEveryone()));
  }

  publish(event: MailboxEvent): void {
    this.deliver(event);
    this.broadcast?.send(event);
  }

  private deliver(event: MailboxEvent): void {
    for (const listener of this.listeners.get(event.agent_id) ?? []) listener(event);
    for (const listener of this.everyone) listener(event);
  }

  /** After an interruption of the broadcast: whatever was missed, every waiter re-reads. */
  private wakeEveryone(): void {
    for (const [agentId, set] of [...this.listeners]) for (const listener of [...set]) listener({ type: 'resync', agent_id: agentId });
    for (const listener of this.everyone) listener({ type: 'resync', agent_id: '' });
  }

  /** Every agent's events (the delivery worker). */
  subscribeAll(listener: Listener): () => void {
    this.everyone.add(listener);
    return () => this.everyone.delete(listener);
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
    this.stopListening?.();
    this.closed = true;
    for (const [agentId, set] of this.listeners) for (const l of [...set]) l({ type: 'shutdown', agent_id: agentId });
  }
}
