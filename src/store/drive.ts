/** Runs a write operation's queries (src/store/writes.ts): synchronously for SQLite, asynchronously for PostgreSQL. */
import type { Row } from './rows.js';
import type { Query, Steps } from './writes.js';

export function driveSync<T>(steps: Steps<T>, exec: (q: Query) => Row[] | number): T {
  for (let step = steps.next(); ;) {
    if (step.done) return step.value;
    step = steps.next(exec(step.value));
  }
}

export async function driveAsync<T>(steps: Steps<T>, exec: (q: Query) => Promise<Row[] | number>): Promise<T> {
  for (let step = steps.next(); ;) {
    if (step.done) return step.value;
    step = steps.next(await exec(step.value));
  }
}
