/**
 * Wake-ups for long-polls, streams and the delivery worker. Local waiters are woken at once, in
 * memory. When the store has a `broadcast` (PostgreSQL), each wake-up is also sent to the other
 * instances, and theirs arrive here; an instance never receives its own back, so nobody is woken twice.
 */
import type { Broadcast, Wakeup } from '../store/types.js';

export type MailboxEvent = Wakeup;

/**
 * Wake-ups that are not events in an agent's log: the API key was rotated (or otherwise revoked), so
 * open streams and long-polls of the old key end at once, on every instance.
 */
export const CREDENTIALS_REVOKED = 'credentials.revoked';
/** The delivery secret changed: open streams re-read the agent, so their next MACs use the new one. */
export const CREDENTIALS_CHANGED = 'credentials.changed';

/**
 * Ends the agent's open streams and long-polls on every instance: each re-reads the agent and ends
 * with the answer its key now gets (401 rotated or reset, 403 suspended).
 */
export function endSessions(deps: { notifier: Notifier }, agentId: string, reason: string): void {
  deps.notifier.publish({ type: CREDENTIALS_REVOKED, agent_id: agentId, data: { reason } });
}

/** These end every wait, whatever it waits for: shutdown, a resync after lost broadcasts, revoked keys. */
const ALWAYS_WAKES = new Set(['shutdown', 'resync', CREDENTIALS_REVOKED]);

type Listener = (event: MailboxEvent) => void;

export class Notifier {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly everyone = new Set<Listener>();
  /** Pending `wait` calls (long-polls) per agent. */
  private readonly waits = new Map<string, number>();
  private closed = false;
  private readonly stopListening?: () => void;

  constructor(
    private readonly broadcast?: Broadcast,
    private readonly onListenerError?: (error: unknown) => void,
  ) {
    this.stopListening = broadcast?.listen((event) => (event ? this.deliver(event) : this.wakeEveryone()));
  }

  publish(event: MailboxEvent): void {
    this.deliver(event);
    this.broadcast?.send(event);
  }

  private deliver(event: MailboxEvent): void {
    for (const listener of this.listeners.get(event.agent_id) ?? []) this.call(listener, event);
    for (const listener of this.everyone) this.call(listener, event);
  }

  /** A listener that throws is its own problem: the others are still woken, and the caller goes on. */
  private call(listener: Listener, event: MailboxEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onListenerError?.(error);
    }
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

  /**
   * How many `wait` calls (long-polls) are pending on this instance, for one agent or for all. A waiter
   * counts from the moment it listens, so an event published after it is counted reaches it (/metrics,
   * and tests' "the long-poll is waiting" signal).
   */
  waiting(agentId?: string): number {
    if (agentId !== undefined) return this.waits.get(agentId) ?? 0;
    let total = 0;
    for (const n of this.waits.values()) total += n;
    return total;
  }

  /** How many listeners (streams and long-polls) this instance holds for the agent. */
  listening(agentId: string): number {
    return this.listeners.get(agentId)?.size ?? 0;
  }

  /**
   * Resolves on the agent's next event that `wakesOn` accepts (every event by default), after `ms`,
   * on abort, or at shutdown — whichever is first. Resolves to the waking event, or null.
   */
  wait(
    agentId: string,
    ms: number,
    signal?: AbortSignal,
    wakesOn: (event: MailboxEvent) => boolean = () => true,
  ): Promise<MailboxEvent | null> {
    if (this.closed || signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      let settled = false;
      const done = (event: MailboxEvent | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        const left = this.waiting(agentId) - 1;
        if (left > 0) this.waits.set(agentId, left);
        else this.waits.delete(agentId);
        signal?.removeEventListener('abort', aborted);
        resolve(event);
      };
      const aborted = () => done(null);
      const timer = setTimeout(aborted, ms);
      const unsubscribe = this.subscribe(agentId, (event) => {
        if (ALWAYS_WAKES.has(event.type) || wakesOn(event)) done(event);
      });
      this.waits.set(agentId, this.waiting(agentId) + 1);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  /** True once closed (shutdown): waits resolve at once with null. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Releases every waiter (graceful shutdown). */
  close(): void {
    this.stopListening?.();
    this.closed = true;
    for (const [agentId, set] of this.listeners) for (const l of [...set]) l({ type: 'shutdown', agent_id: agentId });
  }
}
