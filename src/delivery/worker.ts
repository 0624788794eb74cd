/**
 * The outbox worker: claims due deliveries of every kind from the durable outbox and runs them, at most
 * `concurrency` at a time. Every server instance may run one; claims are leases, so a delivery is
 * worked by one instance at a time and retried by any after a crash.
 */
import type { Notifier } from '../core/notifier.js';
import type { Outbox } from '../core/outbox.js';
import type { DeliveryRecord } from '../store/types.js';

export interface WorkerOptions {
  concurrency: number;
  /** How often to look for due retries when nothing wakes the worker. */
  pollMs?: number;
  /** How long a claim lasts; longer than the delivery's total timeout. */
  leaseMs?: number;
  onError?: (error: unknown) => void;
}

const CLAIM_GAP_MS = 10;

export class DeliveryWorker {
  private running = 0;
  private stopped = false;
  private scheduled = false;
  private ticking = false;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private idle?: () => void;
  private lastClaimAt = 0;
  private readonly leaseMs: number;

  constructor(
    private readonly outbox: Outbox,
    private readonly notifier: Notifier,
    private readonly opts: WorkerOptions,
  ) {
    this.leaseMs = opts.leaseMs ?? 60_000;
  }

  start(): void {
    this.unsubscribe = this.notifier.subscribeAll(() => this.kick());
    this.timer = setInterval(() => this.kick(), this.opts.pollMs ?? 500);
    this.kick();
  }

  /** Stops claiming; resolves when the deliveries in flight have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    if (this.running > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }

  /**
   * Every committed event kicks the worker; a claim scans every webhook's queue head, so claims are
   * spaced at least CLAIM_GAP_MS apart (a busy queue does not wait for them: each success claims its
   * next delivery in the same commit).
   */
  private kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.lastClaimAt = Date.now();
      void this.tick();
    };
    const wait = this.lastClaimAt + CLAIM_GAP_MS - Date.now();
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  private async tick(): Promise<void> {
    const free = this.opts.concurrency - this.running;
    if (this.ticking || this.stopped || free <= 0) return;
    this.ticking = true;
    try {
      const batch = await this.outbox.claim(free, this.leaseMs);
      for (const delivery of batch) {
        this.running += 1;
        this.work(delivery)
          .catch((error) => this.opts.onError?.(error))
          .finally(() => {
            this.running -= 1;
            if (this.running === 0) this.idle?.();
            this.kick();
          });
      }
      if (batch.length === free) this.kick();
    } catch (error) {
      this.opts.onError?.(error);
    } finally {
      this.ticking = false;
    }
  }

  /** A delivery, then — while they succeed and the worker runs — the same queue's next ones. */
  private async work(first: DeliveryRecord): Promise<void> {
    for (let next: DeliveryRecord | null = first; next && !this.stopped;) next = await this.outbox.attempt(next, this.leaseMs);
  }
}
