/**
 * The A2A bridge, inbound (docs/SPEC.md, "A2A binding"): an A2A task is the AMTP message an A2A
 * `SendMessage` became, sent through `Messaging.send` — the one send path, under the same consent,
 * scope, rate-limit, size and signature rules. A task's state is read from its message each time:
 * nothing about it is stored but the withdrawal of a canceled one.
 */
import { AmtpError } from '../protocol/errors.js';
import type { Message, SendInput } from '../protocol/schemas.js';
import type { MessageRecord } from '../store/types.js';
import { commit, type Caller, type CoreDeps } from './context.js';
import { nowIso } from './ids.js';
import type { Messaging } from './messaging.js';

export type A2ATaskState = 'submitted' | 'working' | 'completed' | 'failed' | 'rejected' | 'canceled';

export interface A2ATask {
  /** The message id. */
  id: string;
  /** The thread id. */
  context_id: string;
  /** The agent the message was sent to. */
  recipient_id: string;
  state: A2ATaskState;
  /** When the task last changed state. */
  updated_at: string;
  /** The request as its sender sees it; null once withdrawn (canceled). */
  request: Message | null;
  /** The recipient's reply in the thread (state completed), as the sender sees it. */
  reply: Message | null;
}

export const TERMINAL_STATES: ReadonlySet<A2ATaskState> = new Set(['completed', 'failed', 'rejected', 'canceled']);

/** How long a stream waits for an event before it re-reads the task anyway (a delivery wakes nobody). */
const WATCH_REREAD_MS = 2_000;

const taskNotFound = () => new AmtpError('message_not_found', 'No A2A task with that id among the messages you sent.');

/** A processed receipt (SPEC §18.4) with outcome `failed` or `declined` ends the task failed or rejected. */
function processedOutcome(request: MessageRecord): 'failed' | 'rejected' | null {
  const outcome = request.processed?.outcome;
  return outcome === 'failed' ? 'failed' : outcome === 'declined' ? 'rejected' : null;
}

export class A2ATasks {
  constructor(
    private readonly deps: CoreDeps,
    private readonly messaging: Messaging,
  ) {}

  /** Sends the message (the ordinary send) and answers with its task, submitted. */
  async send(caller: Caller, input: SendInput): Promise<A2ATask> {
    const sent = await this.messaging.send(caller, input);
    const request = await this.messaging.find(caller, sent.id);
    // A retried message (same client_id) may have moved on since: read its whole task.
    if (request?.status !== 'queued') return this.task(caller, sent.id);
    return {
      id: sent.id,
      context_id: sent.thread_id,
      recipient_id: request.recipient_id,
      state: 'submitted',
      updated_at: request.created_at,
      request,
      reply: null,
    };
  }

  /** The task of a message the caller sent. Handing out the reply counts as its delivery. */
  async task(caller: Caller, id: string): Promise<A2ATask> {
    const { store } = this.deps;
    const record = await store.message(id);
    if (!record || record.sender_id !== caller.id) return this.canceled(caller, id);
    const replyRecord = (await store.thread(record.thread_id)).find(
      (m) => m.seq > record.seq && m.sender_id === record.recipient_id && m.recipient_id === caller.id,
    );
    const reply = replyRecord ? await this.messaging.get(caller, replyRecord.id) : null;
    const request = await this.messaging.find(caller, id);
    if (!request) return this.canceled(caller, id);
    const outcome = processedOutcome(record);
    const state: A2ATaskState = reply ? 'completed' : (outcome ?? (request.delivered_at ? 'working' : 'submitted'));
    const updated_at = reply?.created_at ?? request.read_at ?? request.delivered_at ?? request.created_at;
    return { id, context_id: record.thread_id, recipient_id: record.recipient_id, state, updated_at, request, reply };
  }

  /**
   * Best effort: withdraws the message if it has not been delivered yet (the recipient never sees it)
   * and answers with the task canceled; `canceled: false` with the task as it is when it was delivered.
   */
  async cancel(caller: Caller, id: string): Promise<{ canceled: boolean; task: A2ATask }> {
    const record = await this.deps.store.message(id);
    if (!record || record.sender_id !== caller.id) return { canceled: true, task: await this.canceled(caller, id) };
    const [withdrawn] = await commit(this.deps, [{ op: 'withdrawMessage', message: record, at: nowIso() }]);
    return { canceled: withdrawn, task: await this.task(caller, id) };
  }

  /**
   * The task now, then each time its state changes, until a terminal state or `signal`. Woken by the
   * caller's events (a read receipt, a reply); re-reads every few seconds as well, for deliveries.
   */
  async *watch(caller: Caller, id: string, signal: AbortSignal): AsyncGenerator<A2ATask> {
    const { notifier } = this.deps;
    let last = '';
    while (!signal.aborted && !notifier.isClosed) {
      const done = new AbortController();
      // Listening before the read: an event committed in between still wakes the wait.
      const woken = notifier.wait(caller.id, WATCH_REREAD_MS, AbortSignal.any([signal, done.signal]));
      try {
        const task = await this.task(caller, id);
        const key = `${task.state}:${task.reply?.id ?? ''}`;
        if (key !== last) {
          last = key;
          yield task;
        }
        if (TERMINAL_STATES.has(task.state)) return;
        await woken;
      } finally {
        done.abort();
      }
    }
  }

  private async canceled(caller: Caller, id: string): Promise<A2ATask> {
    const withdrawn = await this.deps.store.a2aCanceled(id);
    if (!withdrawn || withdrawn.sender_id !== caller.id) throw taskNotFound();
    return {
      id,
      context_id: withdrawn.thread_id,
      recipient_id: withdrawn.recipient_id,
      state: 'canceled',
      updated_at: withdrawn.canceled_at,
      request: null,
      reply: null,
    };
  }
}
