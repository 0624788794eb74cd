/**
 * Token buckets keyed by string (per sender, per pair, per source address). In-memory and per
 * process; see docs/SPEC.md for the limits and docs/ARCHITECTURE.md for multi-instance notes.
 */
import { AmtpError } from '../protocol/errors.js';

interface Bucket {
  tokens: number;
  updated: number;
  windowMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = Date.now();

  /** Takes one token from `key`'s bucket of `capacity` refilled over `windowMs`; throws 429 when empty. */
  take(key: string, capacity: number, windowMs: number, what: string): void {
    if (capacity <= 0) return;
    const now = Date.now();
    this.sweep(now);
    const rate = capacity / windowMs;
    const b = this.buckets.get(key) ?? { tokens: capacity, updated: now, windowMs };
    b.tokens = Math.min(capacity, b.tokens + (now - b.updated) * rate);
    b.updated = now;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
      throw new AmtpError('rate_limited', `Too many ${what}. Wait ${retryAfter} s and try again.`, { retry_after: retryAfter }, retryAfter);
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
  }

  /** Forget buckets that have refilled completely, so memory stays bounded by active keys. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, b] of this.buckets) if (now - b.updated > b.windowMs) this.buckets.delete(key);
  }
}
