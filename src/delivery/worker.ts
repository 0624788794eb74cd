/**
 * The webhook delivery worker: claims due deliveries from the durable outbox and runs them, at most
 * `concurrency` at a time. Every server instance may run one; claims are leases, so a delivery is
 * worked by one instance at a time and retried by any after a crash.
 */
import type { Notifier } from '../core/notifier.js';
import type { Webhooks } from '../core/webhooks.js';

export interface WorkerOptions {
  concurrency: number;
  /** How often to look for due retries when nothing wakes the worker. */
  pollMs?: number;
  /** How long a claim lasts; longer than the delivery's total timeout. */
  leaseMs?: number;
  onError?: (error: unknown) => void;
}

export class DeliveryWorker {
  private running = 0;
  private stopped = false;
  private scheduled = false;
  private ticking = false;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private idle?: () => void;

  constructor(
    private readonly webhooks: Webhooks,
    private readonly notifier: Notifier,
    private readonly opts: WorkerOptions,
  ) {}

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

  private kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.tick();
    });
  }

  private async tick(): Promise<void> {
    const free = this.opts.concurrency - this.running;
    if (this.ticking || this.stopped || free <= 0) return;
    this.ticking = true;
    try {
      const batch = await this.webhooks.claim(free, this.opts.leaseMs ?? 60_000);
      for (const delivery of batch) {
        this.running += 1;
        this.webhooks
          .attempt(delivery)
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
}
