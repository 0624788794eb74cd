/**
 * Guard rails between agents (SPEC §17): grants limited in time and count, budgets per pair, the loop
 * breaker, and the outbound leak guard. The send path calls `check` after the consent gate; every
 * count that must hold across instances (a grant's remaining messages, a budget window) is taken in
 * the same commit as the message, by row-atomic write operations.
 */
import { AmtpError } from '../protocol/errors.js';
import type {
  Budget,
  GrantLimit,
  GrantLimits,
  GuardInput,
  GuardSettings,
  HeldMessage,
  LoopFlag,
  Peer,
  SendInput,
} from '../protocol/schemas.js';
import {
  StoreError,
  type AgentRecord,
  type BudgetPeriod,
  type GrantLimitRecord,
  type GuardSettingsRecord,
  type HeldRecord,
  type LoopRecord,
  type Store,
  type WriteOp,
} from '../store/types.js';
import { auditOp, commit, eventOp, findActiveAgent, type Caller, type CoreDeps } from './context.js';
import { API_KEY_PREFIX, hashSecret } from './ids.js';
import { messageText, scanForSecrets } from './leak-scan.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const API_KEY_IN_TEXT = new RegExp(`${API_KEY_PREFIX}[A-Za-z0-9_-]{43}`, 'g');

/** What the send path must add to its commit, or the reasons to hold the message instead. */
export interface GuardDecision {
  ops: WriteOp[];
  hold: string[] | null;
  /** The answer for a guard operation that failed at commit (a concurrent send took the last message). */
  refusal(error: StoreError): AmtpError | null;
}

export class Guard {
  constructor(private readonly deps: CoreDeps) {}

  private now(): number {
    return this.deps.config.clock.now();
  }

  /** Runs every guard rail on a message the consent gate let through. `released`: a held message its human approved. */
  async check(
    sender: Caller,
    recipient: AgentRecord,
    input: SendInput,
    thread_id: string,
    replying: boolean,
    released = false,
  ): Promise<GuardDecision> {
    if (!input.sealed && !released) assertNoOwnSecret(sender, messageText(input));
    const [state, loopOps] = await Promise.all([
      this.deps.store.sendGuard(sender.id, recipient.id, input.scope),
      replying ? this.loopOps(sender, recipient, thread_id, input.origin === 'human') : [],
    ]);
    const hold = released ? null : await holdReasons(input, state.sender_leak_guard);
    if (hold) return { ops: [], hold, refusal: () => null };
    const grant = await this.grantOps(sender, recipient, input.scope, state.limit);
    const budget = await this.budgetOps(sender, recipient, budgetOf(state.pair, state.recipient_default));
    return {
      ops: [...loopOps, ...grant, ...budget.ops],
      hold: null,
      refusal: (error) =>
        error.kind === 'grant_lapsed'
          ? lapsed(recipient, input.scope)
          : error.kind === 'budget_exceeded'
            ? budget.exceeded(error.message as BudgetPeriod)
            : null,
    };
  }

  // ── grants limited in time and count ─────────────────────────────────────────────────────────

  /** Refuses a lapsed scope; counts the message against a limited one (in the message's commit). */
  private async grantOps(sender: Caller, recipient: AgentRecord, scope: string, limit: GrantLimitRecord | null): Promise<WriteOp[]> {
    if (!limit) return [];
    const at = new Date(this.now()).toISOString();
    if (limit.expires_at !== null && limit.expires_at <= at) {
      await commit(this.deps, [{ op: 'lapseGrant', granter_id: recipient.id, grantee_id: sender.id, scope, reason: 'expired', at }]);
      throw lapsed(recipient, scope);
    }
    if (limit.remaining === 0) throw lapsed(recipient, scope);
    return [{ op: 'useGrant', granter_id: recipient.id, grantee_id: sender.id, scope, at }];
  }

  /**
   * The operations that record a grant's limits. Without `limits`, the limits of scopes still granted
   * stay; with them, they are the grant's whole set (a scope left out has none).
   */
  async limitOps(granter: string, grantee: string, scopes: string[], limits: GrantLimits | undefined): Promise<WriteOp[]> {
    const existing = await this.deps.store.grantLimits(granter, grantee);
    if (!limits) {
      const kept = existing.filter((l) => scopes.includes(l.scope));
      return kept.length === existing.length ? [] : [{ op: 'setGrantLimits', granter_id: granter, grantee_id: grantee, limits: kept }];
    }
    const records = Object.entries(limits).map(([scope, l]): GrantLimitRecord => {
      if (!scopes.includes(scope))
        throw new AmtpError(
          'invalid_request',
          `limits names the scope "${scope}", which this grant does not include (${scopes.join(', ')}).`,
        );
      const expires_at = l.expires_at === undefined ? null : new Date(l.expires_at).toISOString();
      if (expires_at !== null && Date.parse(expires_at) <= this.now()) {
        throw new AmtpError('invalid_request', `limits.${scope}.expires_at (${expires_at}) is already past. Give a time in the future.`);
      }
      return { granter_id: granter, grantee_id: grantee, scope, expires_at, remaining: l.max_messages ?? null };
    });
    return [
      { op: 'setGrantLimits', granter_id: granter, grantee_id: grantee, limits: records },
      auditOp(granter, 'grant.limits_set', grantee, {
        limits: Object.fromEntries(records.map((r) => [r.scope, { expires_at: r.expires_at, max_messages: r.remaining }])),
      }),
    ];
  }

  /** Peers with the limits both ways, the budget the caller set for them, and their looping threads. */
  async decoratePeers(callerId: string, peers: Peer[]): Promise<Peer[]> {
    const { store } = this.deps;
    const [limits, settings, budgets, loops] = await Promise.all([
      store.grantLimitsInvolving(callerId),
      store.guardSettings(callerId),
      store.pairBudgets(callerId),
      store.loopsInvolving(callerId),
    ]);
    const at = new Date(this.now()).toISOString();
    const view = (granter: string, grantee: string) =>
      Object.fromEntries(
        limits.filter((l) => l.granter_id === granter && l.grantee_id === grantee).map((l) => [l.scope, limitView(l, at)]),
      );
    return peers.map((p) => ({
      ...p,
      my_limits: view(callerId, p.agent_id),
      their_limits: view(p.agent_id, callerId),
      budget: budgetOf(budgets.find((b) => b.sender_id === p.agent_id) ?? null, settings),
      looping_threads: loops.filter((l) => l.agent_a === p.agent_id || l.agent_b === p.agent_id).map((l) => l.thread_id),
    }));
  }

  // ── budgets ─────────────────────────────────────────────────────────────────────────────

  private async budgetOps(sender: Caller, recipient: AgentRecord, budget: Budget | null) {
    const { store } = this.deps;
    const now = this.now();
    const windows = budget ? budgetWindows(budget, now) : [];
    const exceeded = (period: BudgetPeriod) => {
      const w = windows.find((x) => x.period === period)!;
      const retryAfter = Math.max(1, Math.ceil((Date.parse(w.window_start) + (period === 'hour' ? HOUR : DAY) - now) / 1000));
      const source = budget?.source === 'pair' ? `the budget ${recipient.name} set for you` : `${recipient.name}'s default budget`;
      return new AmtpError(
        'budget_exceeded',
        `Over ${source}: at most ${w.limit} message(s) per ${period === 'hour' ? 'clock hour' : 'UTC day'}. Retry after ${retryAfter} s, when the ${period} window ends.`,
        { limit: w.limit, period, retry_after: retryAfter },
        retryAfter,
      );
    };
    for (const w of windows) {
      if ((await store.budgetCount(recipient.id, sender.id, w.period, w.window_start)) >= w.limit) throw exceeded(w.period);
    }
    const ops: WriteOp[] = windows.length ? [{ op: 'countBudget', recipient_id: recipient.id, sender_id: sender.id, windows }] : [];
    return { ops, exceeded };
  }

  async setBudget(
    caller: Caller,
    peerRef: string,
    input: { per_hour: number | null; per_day: number | null },
  ): Promise<{ agent_id: string; budget: Budget | null }> {
    const peer = await findActiveAgent(this.deps.store, peerRef);
    if (!peer || peer.id === caller.id)
      throw new AmtpError('agent_not_found', 'No agent with that id or name. A budget is set for a peer: see GET /api/peers.');
    await commit(this.deps, [
      {
        op: 'putPairBudget',
        budget: { recipient_id: caller.id, sender_id: peer.id, ...input, updated_at: new Date(this.now()).toISOString() },
      },
      auditOp(caller.id, 'budget.changed', peer.id, input),
    ]);
    const [pair, settings] = await Promise.all([this.deps.store.pairBudget(caller.id, peer.id), this.deps.store.guardSettings(caller.id)]);
    return { agent_id: peer.id, budget: budgetOf(pair, settings) };
  }

  async settings(caller: Caller): Promise<GuardSettings> {
    const [s, budgets] = await Promise.all([this.deps.store.guardSettings(caller.id), this.deps.store.pairBudgets(caller.id)]);
    return {
      leak_guard: s?.leak_guard ?? false,
      default_budget: { per_hour: s?.per_hour ?? null, per_day: s?.per_day ?? null },
      budgets: budgets.map((b) => ({ sender_id: b.sender_id, per_hour: b.per_hour, per_day: b.per_day })),
    };
  }

  async setSettings(caller: Caller, input: GuardInput): Promise<GuardSettings> {
    const current = await this.settings(caller);
    const settings: GuardSettingsRecord = {
      agent_id: caller.id,
      leak_guard: input.leak_guard ?? current.leak_guard,
      per_hour: input.default_budget ? input.default_budget.per_hour : current.default_budget.per_hour,
      per_day: input.default_budget ? input.default_budget.per_day : current.default_budget.per_day,
      updated_at: new Date(this.now()).toISOString(),
    };
    await commit(this.deps, [
      { op: 'putGuardSettings', settings },
      auditOp(caller.id, 'guard.changed', null, {
        leak_guard: settings.leak_guard,
        default_budget: { per_hour: settings.per_hour, per_day: settings.per_day },
      }),
    ]);
    return this.settings(caller);
  }

  // ── the loop breaker ───────────────────────────────────────────────────────────────────────

  /**
   * A human-originated message passes and clears the thread's flag. An automatic one is refused in a
   * flagged thread, and trips the breaker when it would be the (N+1)th within the window.
   */
  private async loopOps(sender: Caller, recipient: AgentRecord, thread_id: string, human: boolean): Promise<WriteOp[]> {
    const { store, config } = this.deps;
    const now = this.now();
    const { loop, run } = await store.threadGuard(thread_id, new Date(now - config.loop.windowSeconds * 1000).toISOString());
    const flag = loop && !loop.cleared_at ? loop : null;
    if (human) return flag ? clearOps(flag, sender.id, new Date(now).toISOString()) : [];
    if (flag) throw loopRefusal(thread_id, flag.messages);
    if (run < config.loop.maxMessages) return [];
    const tripped: LoopRecord = {
      thread_id,
      agent_a: sender.id,
      agent_b: recipient.id,
      messages: run,
      flagged_at: new Date(now).toISOString(),
      cleared_at: null,
    };
    await commit(this.deps, [{ op: 'flagLoop', loop: tripped }, ...loopEvents('thread.loop_detected', tripped, { messages: run })]);
    throw loopRefusal(thread_id, run);
  }

  /** Clears a thread's loop flag without sending (the web UI's and the CLI's "resume"). */
  async clearLoop(caller: Caller, thread_id: string): Promise<{ cleared: boolean }> {
    const flag = await this.deps.store.loop(thread_id);
    if (!flag || flag.cleared_at || (flag.agent_a !== caller.id && flag.agent_b !== caller.id)) return { cleared: false };
    const [cleared] = await commit(this.deps, clearOps(flag, caller.id, new Date(this.now()).toISOString()));
    return { cleared: cleared as boolean };
  }

  // ── the leak guard ────────────────────────────────────────────────────────────────────────

  /** Stores the message for its sender's human, with the signature nonce spent, and tells the sender. */
  async hold(
    sender: Caller,
    recipient: AgentRecord,
    input: SendInput,
    held: { id: string; thread_id: string; reasons: string[]; ops: WriteOp[] },
  ) {
    // A retry of a held send (same client_id) answers with the message already held.
    const retried = input.client_id && (await this.deps.store.heldBy(sender.id)).find((h) => h.input.client_id === input.client_id);
    if (retried)
      return { id: retried.id, status: 'held_for_approval' as const, thread_id: retried.thread_id, created_at: retried.created_at };
    const created_at = new Date(this.now()).toISOString();
    const { hold_for_approval: _asked, ...kept } = input;
    const record: HeldRecord = {
      id: held.id,
      sender_id: sender.id,
      recipient_id: recipient.id,
      thread_id: held.thread_id,
      input: kept,
      reasons: held.reasons,
      created_at,
    };
    await commit(this.deps, [
      { op: 'holdMessage', held: record },
      ...held.ops,
      eventOp(sender.id, 'message.held', {
        message_id: held.id,
        thread_id: held.thread_id,
        recipient_id: recipient.id,
        reasons: held.reasons,
      }),
    ]);
    return { id: held.id, status: 'held_for_approval' as const, thread_id: held.thread_id, created_at };
  }

  async heldList(caller: Caller): Promise<HeldMessage[]> {
    const rows = await this.deps.store.heldBy(caller.id);
    const names = new Map((await this.deps.store.agentsByIds([...new Set(rows.map((h) => h.recipient_id))])).map((a) => [a.id, a.name]));
    return rows.map((h) => heldView(h, names.get(h.recipient_id) ?? 'unknown'));
  }

  async heldMessage(caller: Caller, id: string): Promise<HeldRecord> {
    const held = await this.deps.store.held(id);
    if (!held || held.sender_id !== caller.id)
      throw new AmtpError('held_not_found', 'No held message with that id among yours. List them with GET /api/held.');
    return held;
  }

  async discard(caller: Caller, id: string): Promise<{ discarded: boolean }> {
    const held = await this.heldMessage(caller, id);
    const [discarded] = await commit(this.deps, [
      { op: 'deleteHeld', id, sender_id: caller.id },
      auditOp(caller.id, 'held.discarded', held.recipient_id, { message_id: id }),
    ]);
    return { discarded };
  }
}

/** Why to hold the message: its client's leak guard asked, or the sender's policy found secrets in unsealed content. */
async function holdReasons(input: SendInput, leakGuard: boolean): Promise<string[] | null> {
  const reasons = (input.hold_for_approval?.reasons ?? []).map((r) => `client: ${r}`);
  if (!input.sealed && leakGuard) reasons.push(...(await scanForSecrets(messageText(input))));
  return reasons.length ? reasons : null;
}

type PerPeriod = { per_hour: number | null; per_day: number | null };

/** The budget in force for a pair: its own, else the recipient's default; null when neither limits anything. */
function budgetOf(pair: PerPeriod | null, settings: PerPeriod | null): Budget | null {
  if (pair) return { per_hour: pair.per_hour, per_day: pair.per_day, source: 'pair' };
  if (settings && (settings.per_hour !== null || settings.per_day !== null))
    return { per_hour: settings.per_hour, per_day: settings.per_day, source: 'default' };
  return null;
}

/** The fixed UTC windows (clock hour, day) a message sent at `now` counts in. */
function budgetWindows(budget: Budget, now: number): { period: BudgetPeriod; window_start: string; limit: number }[] {
  const windows: { period: BudgetPeriod; window_start: string; limit: number }[] = [];
  if (budget.per_hour !== null)
    windows.push({ period: 'hour', window_start: new Date(now - (now % HOUR)).toISOString(), limit: budget.per_hour });
  if (budget.per_day !== null)
    windows.push({ period: 'day', window_start: new Date(now - (now % DAY)).toISOString(), limit: budget.per_day });
  return windows;
}

function limitView(l: GrantLimitRecord, at: string): GrantLimit {
  const expired = l.expires_at !== null && l.expires_at <= at;
  return { expires_at: l.expires_at, remaining: expired ? 0 : l.remaining };
}

const lapsed = (recipient: AgentRecord, scope: string) =>
  new AmtpError(
    'grant_lapsed',
    `${recipient.name}'s grant of the scope "${scope}" lapsed (its messages were used up or its time ran out). Ask them to renew it; their_limits in GET /api/peers shows what is left.`,
    { scope },
  );

const loopRefusal = (thread_id: string, messages: number) =>
  new AmtpError(
    'loop_detected',
    `The loop breaker stopped thread ${thread_id} after ${messages} automatic messages without a human in between. A human must reply in it (CLI or web UI) or clear it (DELETE /api/threads/${thread_id}/loop) before automatic messages pass again.`,
    { thread_id },
  );

/** A human clears the flag: both sides are told, the clearing side's audit log records it. */
function clearOps(flag: LoopRecord, humanSide: string, at: string): WriteOp[] {
  const peer = flag.agent_a === humanSide ? flag.agent_b : flag.agent_a;
  return [
    { op: 'clearLoop', thread_id: flag.thread_id, at },
    ...loopEvents('thread.loop_cleared', flag, { by_id: humanSide }),
    auditOp(humanSide, 'loop.cleared', peer, { thread_id: flag.thread_id }),
  ];
}

function loopEvents(type: 'thread.loop_detected' | 'thread.loop_cleared', loop: LoopRecord, data: Record<string, unknown>): WriteOp[] {
  return [loop.agent_a, loop.agent_b].map((agent) =>
    eventOp(agent, type, { thread_id: loop.thread_id, peer_id: agent === loop.agent_a ? loop.agent_b : loop.agent_a, ...data }),
  );
}

/** The agent's own API key and delivery secret never leave in a message, whatever the policy. */
function assertNoOwnSecret(sender: Caller, text: string): void {
  const ownKey = [...text.matchAll(API_KEY_IN_TEXT)].some((m) => hashSecret(m[0]) === sender.api_key_hash);
  if (ownKey || (sender.delivery_secret && text.includes(sender.delivery_secret))) {
    throw new AmtpError(
      'secret_blocked',
      'The message contains your own API key or delivery secret, so it was not sent. Remove it; if it leaked anywhere, rotate it (POST /api/me/api-key/rotate).',
    );
  }
}

function heldView(h: HeldRecord, recipient_name: string): HeldMessage {
  const input = h.input as Partial<SendInput>;
  return {
    id: h.id,
    status: 'held_for_approval',
    recipient_id: h.recipient_id,
    recipient_name,
    thread_id: h.thread_id,
    reasons: h.reasons,
    subject: input.subject ?? null,
    body: input.body ?? null,
    sealed_for_sender: input.sealed_for_sender ?? null,
    created_at: h.created_at,
  };
}

/**
 * The threads the loop breaker holds for an agent, newest first: for the triage digest (issue 18)
 * and anything else that shows the humans what needs them.
 */
export async function loopFlags(store: Store, agentId: string): Promise<LoopFlag[]> {
  const loops = await store.loopsInvolving(agentId);
  return loops.reverse().map((l) => loopView(l, agentId));
}

export function loopView(l: LoopRecord, viewerId: string): LoopFlag {
  return {
    thread_id: l.thread_id,
    peer_id: l.agent_a === viewerId ? l.agent_b : l.agent_a,
    messages: l.messages,
    flagged_at: l.flagged_at,
  };
}
