/**
 * Issue 16's targets, each judged by a ratio to another figure of the same run (or by an absolute
 * bound), and the cost curve: the send and the inbox page against the number of stored messages.
 */
import type { Figure } from './lib.js';
import { RAW_SQLITE } from './raw-sqlite.js';

const n = (x: number) => x.toLocaleString('en');
const plural = (instances: number) => `${instances} instance${instances > 1 ? 's' : ''}`;

/** Names of the figures the targets judge (run.ts and latency.ts name them with these). */
export const NAMES = {
  ceiling: 'ceiling: trivial 202',
  send: 'send, unsigned, durable',
  verify: 'ed25519 verify (server implementation), one core',
  signed: 'send, signed, durable',
  inbox: (stored: number) => `inbox, 50 unread of ${n(stored)} stored`,
  pgSend: (instances: number) => `PostgreSQL: send, ${plural(instances)}`,
  pgInbox: (instances: number) => `PostgreSQL: inbox (50 unread), ${plural(instances)}`,
  sse: (rate: number) => `send → SSE event at ${n(rate)} msg/s`,
  webhook: (rate: number) => `send → webhook received at ${n(rate)} msg/s`,
};

/** The resident memory a server levels off under (docs/SELF-HOSTING.md, "Memory"): 100 MB + 2 × 32 MiB cache + 2 × 128 MiB mmap. */
export const RSS_BOUND_MB = 420;

/** a / b by throughput (or p99); undefined when either was not measured. */
export const ratio = (a?: Figure, b?: Figure, key: 'rps' | 'p99' = 'rps') => (a && b ? a[key] / Math.max(b[key], 1) : undefined);

export interface Target {
  name: string;
  value: number | null;
  unit: string;
  p99_ms?: number;
  /** The ratio the target is judged by; null for an absolute bound. */
  ratio: number | null;
  target: string;
  /** null: a figure it needs was not measured (--only, or no PostgreSQL). */
  met: boolean | null;
}

export interface TargetInputs {
  figures: Figure[];
  /** The cost curve's smallest and largest store (10,000 and 1,000,000 in a full run). */
  small: number;
  big: number;
  e2eRate: number;
  rssMiB: number[];
}

/** A throughput judged by its ratio to another figure: at least `min` (and with `maxP99`, p99 at most that). */
function atLeast(name: string, f: Figure | undefined, base: Figure | undefined, min: number, of: string, maxP99?: number): Target {
  const r = ratio(f, base);
  return {
    name,
    value: f?.rps ?? null,
    unit: 'req/s',
    ...(maxP99 !== undefined && f ? { p99_ms: f.p99 } : {}),
    ratio: r ?? null,
    target: `≥ ${min} × ${of}${maxP99 === undefined ? '' : `, p99 ≤ ${maxP99} ms`}`,
    met: f && r !== undefined ? r >= min && (maxP99 === undefined || f.p99 <= maxP99) : null,
  };
}

/** A value judged against an absolute bound. */
function atMost(name: string, value: number | undefined, unit: string, max: number): Target {
  return { name, value: value ?? null, unit, ratio: null, target: `≤ ${max} ${unit}`, met: value === undefined ? null : value <= max };
}

export function targets({ figures, small, big, e2eRate, rssMiB }: TargetInputs): Target[] {
  const by = (name: string) => figures.find((f) => f.name === name);
  const send = by(NAMES.send);
  const inbox = by(NAMES.inbox(small));
  const inboxBig = by(NAMES.inbox(big));
  const bigSmall = ratio(inboxBig, inbox, 'p99');
  const rss = rssMiB.length ? Math.round((Math.max(...rssMiB) * 2 ** 20) / 1e6) : undefined;
  return [
    atLeast('durable unsigned send, SQLite, 64 connections', send, by(RAW_SQLITE), 0.6, 'raw SQLite inserts', 15),
    atLeast(`inbox page, 50 unread of ${n(small)}, 16 connections`, inbox, by(NAMES.ceiling), 0.05, 'ceiling', 10),
    {
      name: `the same at ${n(big)} stored`,
      value: inboxBig?.p99 ?? null,
      unit: 'ms p99',
      ratio: bigSmall ?? null,
      target: `p99 ≤ 1.5 × at ${n(small)}`,
      met: bigSmall === undefined ? null : bigSmall <= 1.5,
    },
    atLeast('send on PostgreSQL, one instance', by(NAMES.pgSend(1)), send, 0.5, 'SQLite send'),
    atLeast('send on PostgreSQL, two instances', by(NAMES.pgSend(2)), by(NAMES.pgSend(1)), 1.3, 'one instance'),
    atLeast('inbox on PostgreSQL, two instances', by(NAMES.pgInbox(2)), by(NAMES.pgInbox(1)), 1.3, 'one instance'),
    atMost(`send → SSE event, p99 at ${n(e2eRate)} msg/s`, by(NAMES.sse(e2eRate))?.p99, 'ms', 25),
    atMost(`send → webhook received, p99 at ${n(e2eRate)} msg/s`, by(NAMES.webhook(e2eRate))?.p99, 'ms', 50),
    atLeast('signed send', by(NAMES.signed), by(NAMES.verify), 0.7, "one core's ed25519 verify rate"),
    atMost('RSS after the bench (send and inbox servers)', rss, 'MB', RSS_BOUND_MB),
  ];
}

const num = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en') : String(Math.round(v * 10) / 10));

export function formatTargets(list: Target[], smoke: boolean): string {
  const row = (name: string, value: string, ratio: string, target: string, met: string) =>
    `${name.padEnd(50)} ${value.padStart(26)}   ${ratio.padStart(5)}   ${target.padEnd(40)}   ${met}`;
  return [
    `\nTargets (issue 16)${smoke ? ' — smoke run: 1-second loads on tiny stores, so these verdicts mean nothing' : ''}`,
    row('', 'measured', 'ratio', 'target', ''),
    ...list.map((t) =>
      row(
        t.name,
        t.value === null ? 'not measured' : `${num(t.value)} ${t.unit}${t.p99_ms === undefined ? '' : `, p99 ${num(t.p99_ms)} ms`}`,
        t.ratio === null ? '—' : t.ratio.toFixed(2),
        t.target,
        t.met === null ? '' : t.met ? 'met' : 'NOT met',
      ),
    ),
  ].join('\n');
}

export interface CurvePoint {
  backend: 'SQLite' | 'PostgreSQL';
  stored: number;
  seed_s: number;
  send_rps: number;
  send_p99_ms: number;
  inbox_rps: number;
  inbox_p50_ms: number;
  inbox_p99_ms: number;
}

export const curvePoint = (
  backend: CurvePoint['backend'],
  stored: number,
  seedSeconds: number,
  send: Figure,
  inbox: Figure,
): CurvePoint => ({
  backend,
  stored,
  seed_s: Math.round(seedSeconds * 10) / 10,
  send_rps: Math.round(send.rps),
  send_p99_ms: send.p99,
  inbox_rps: Math.round(inbox.rps),
  inbox_p50_ms: inbox.p50,
  inbox_p99_ms: inbox.p99,
});

export function formatCurve(curve: CurvePoint[]): string {
  const cells = (c: (string | number)[]) =>
    c.map((x, i) => (i === 0 ? String(x).padEnd(10) : String(x).padStart(i === 1 ? 10 : 12))).join(' ');
  return [
    '\nCost curve: send (64 connections) and the inbox page (50 unread, 16 connections) by messages stored',
    cells(['backend', 'stored', 'seeded in', 'send req/s', 'send p99', 'inbox pg/s', 'inbox p50', 'inbox p99']),
    ...curve.map((p) =>
      cells([
        p.backend,
        n(p.stored),
        `${num(p.seed_s)} s`,
        n(p.send_rps),
        `${num(p.send_p99_ms)} ms`,
        n(p.inbox_rps),
        `${num(p.inbox_p50_ms)} ms`,
        `${num(p.inbox_p99_ms)} ms`,
      ]),
    ),
  ].join('\n');
}
