/**
 * Quiet hours as time: whether an instant falls in an agent's daily window, when that window ends, and
 * when the agent's local day ends. All calendar and time-zone arithmetic is Temporal's (temporal-polyfill):
 * wall-clock times are resolved in the IANA zone, across daylight-saving changes, with the standard
 * "compatible" disambiguation (a time skipped by a spring-forward gap resolves to just after it).
 */
import { Temporal } from 'temporal-polyfill';
import { AmtpError } from '../protocol/errors.js';
import type { QuietHoursRecord } from '../store/types.js';

const at = (ms: number, timeZone: string) => Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone);

/** Throws invalid_request unless `timeZone` is an IANA zone this runtime knows. */
export function assertTimeZone(timeZone: string): void {
  try {
    at(0, timeZone);
  } catch {
    throw new AmtpError('invalid_request', `Unknown time zone "${timeZone}". Use an IANA name such as Europe/Paris or America/New_York.`);
  }
}

/** If `nowMs` falls inside the window, the instant (ms) it ends; otherwise null. */
export function quietUntil(q: QuietHoursRecord, nowMs: number): number | null {
  const now = at(nowMs, q.time_zone);
  const time = now.toPlainTime();
  const start = Temporal.PlainTime.from(q.start);
  const end = Temporal.PlainTime.from(q.end);
  const afterStart = Temporal.PlainTime.compare(time, start) >= 0;
  const beforeEnd = Temporal.PlainTime.compare(time, end) < 0;
  const acrossMidnight = Temporal.PlainTime.compare(end, start) < 0;
  if (!(acrossMidnight ? afterStart || beforeEnd : afterStart && beforeEnd)) return null;
  const today = now.withPlainTime(end);
  return (Temporal.ZonedDateTime.compare(today, now) > 0 ? today : now.add({ days: 1 }).withPlainTime(end)).epochMilliseconds;
}

/** The instant (ms) the local day containing `nowMs` ends in `timeZone` (the next midnight, however long the day). */
export function endOfLocalDay(nowMs: number, timeZone: string): number {
  return at(nowMs, timeZone).toPlainDate().add({ days: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds;
}
