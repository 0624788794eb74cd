/** A clock the test drives (pass it to startServer's options): time moves only when the test says. */
import type { Clock } from '../../src/config.js';

export class ManualClock implements Clock {
  private at: number;

  constructor(start: string | number = Date.now()) {
    this.at = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): number {
    return this.at;
  }

  set(at: string | number): void {
    this.at = typeof at === 'number' ? at : Date.parse(at);
  }

  advance(ms: number): void {
    this.at += ms;
  }
}
