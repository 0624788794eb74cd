/**
 * The A2A binding over HTTP (docs/SPEC.md, "A2A binding"): AgentCards, the server's JWK Set, and each
 * agent's JSON-RPC endpoint. JSON-RPC itself is the official `@a2a-js/sdk` transport handler; what is
 * here is its mount in Fastify (auth, SSE) and the request handler that translates A2A to the core
 * (`core.a2aTasks`, which sends through the one send path) and back.
 */
import {
  formatSSEErrorEvent,
  formatSSEEvent,
  Role,
  SSE_HEADERS,
  TaskState,
  type Message as A2AMessage,
  type Part,
  type SendMessageRequest,
  type StreamResponse,
  type Task,
} from '@a2a-js/sdk';
import {
  A2AError,
  ExtendedAgentCardNotConfiguredError,
  JsonRpcTransportError,
  PushNotificationNotSupportedError,
  RequestMalformedError,
  TaskNotCancelableError,
  TaskNotFoundError,
  UnsupportedOperationError,
} from '@a2a-js/sdk/errors';
import { JsonRpcTransportHandler, ServerCallContext, validateVersion, type A2ARequestHandler } from '@a2a-js/sdk/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { A2ATask, A2ATaskState } from '../core/a2a-tasks.js';
import { currentCaller, type Caller } from '../core/context.js';
import type { Mailbox } from '../core/mailbox.js';
import { AmtpError, toAmtpError } from '../protocol/errors.js';
import { findJsonProblem } from '../protocol/json-input.js';
import { SendInput, type Message } from '../protocol/schemas.js';
import { A2A_PROTOCOL_VERSION, agentCard, agentCardPath, agentPath, JWKS_PATH, serverCard } from './a2a-cards.js';

const STATES: Record<A2ATaskState, TaskState> = {
  submitted: TaskState.TASK_STATE_SUBMITTED,
  working: TaskState.TASK_STATE_WORKING,
  completed: TaskState.TASK_STATE_COMPLETED,
  failed: TaskState.TASK_STATE_FAILED,
  rejected: TaskState.TASK_STATE_REJECTED,
  canceled: TaskState.TASK_STATE_CANCELED,
};

/** Server-defined JSON-RPC codes (-32000…-32099) for the refusals A2A has no code of its own for. */
export const A2A_AMTP_ERRORS = { permissionDenied: -32050, rateLimited: -32051, unauthenticated: -32052 } as const;
const PARSE_ERROR = -32700;
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

/** The interfaces every agent endpoint offers, for the SDK's A2A-Version check. */
const VERSION_CARD = {
  supportedInterfaces: [{ url: '', protocolBinding: 'JSONRPC', protocolVersion: A2A_PROTOCOL_VERSION, tenant: '' }],
} as unknown as Parameters<typeof validateVersion>[1];

export function registerA2A(
  app: FastifyInstance,
  core: Mailbox,
  baseUrl: (req: FastifyRequest) => string,
  bearer: (req: FastifyRequest) => string | undefined,
): void {
  app.get(JWKS_PATH, async () => ({ keys: [(await core.serverKey.get()).publicJwk] }));
  app.get('/.well-known/agent-card.json', async (req) => serverCard(baseUrl(req), core.config, await core.serverKey.get()));
  app.get(agentCardPath(':name'), async (req, reply) => {
    const { name } = req.params as { name: string };
    const found = await core.capabilities.get(name).catch(() => null);
    const agent = found && (await core.store.agentById(found.agent_id));
    // Only agents that publish capabilities have a card; any other name looks unknown.
    if (!agent || found.capabilities.length === 0 || agent.name !== name.toLowerCase()) {
      return reply
        .code(404)
        .send(
          new AmtpError(
            'agent_not_found',
            'No agent with that name publishes an AgentCard here (only agents with capabilities do).',
          ).toJSON(),
        );
    }
    return agentCard(agent, found.capabilities, baseUrl(req), core.config, await core.serverKey.get());
  });
  void app.register(async (scope) => mountEndpoint(scope, core, bearer));
}

/** POST /a2a/agents/:name: one JSON-RPC request, answered as JSON, or as SSE for the streaming methods. */
function mountEndpoint(app: FastifyInstance, core: Mailbox, bearer: (req: FastifyRequest) => string | undefined): void {
  // Parsed here rather than by the REST parser, so a malformed body gets the JSON-RPC parse error (-32700).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/a2a+json'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post(agentPath(':name'), async (req, reply) => {
    const { name } = req.params as { name: string };
    const body = parseRequest(req.body as string | undefined);
    if (body === NOT_JSON) return reply.send(rpcError(null, PARSE_ERROR, 'Parse error: the body is not JSON.'));
    const id = body && typeof body === 'object' && 'id' in body ? body.id : null;
    let caller: Caller;
    try {
      caller = await core.identity.authenticate(bearer(req));
    } catch (error) {
      const e = error as AmtpError;
      void reply.header('www-authenticate', 'Bearer');
      return reply.code(e.status).send(rpcError(id, A2A_AMTP_ERRORS.unauthenticated, `${e.code}: ${e.message}`));
    }
    const problem = findJsonProblem(body);
    if (problem) return reply.send(rpcError(id, INVALID_PARAMS, `invalid_request: ${problem.path} ${problem.message}`));
    const closed = new AbortController();
    reply.raw.once('close', () => closed.abort());
    const requestedVersion = typeof req.headers['a2a-version'] === 'string' ? req.headers['a2a-version'] : undefined;
    const context = new ServerCallContext({ requestedVersion, user: { isAuthenticated: true, userName: caller.name } });
    try {
      validateVersion(context.requestedVersion, VERSION_CARD, 'JSONRPC');
    } catch (error) {
      return reply.send(rpcError(id, JsonRpcTransportHandler.mapToJSONRPCError(error).code, (error as Error).message));
    }
    const bug = (err: unknown) => req.log.error({ err }, 'A2A request failed');
    const handler = new MailboxAgentHandler(core, name.toLowerCase(), caller, closed.signal, bug);
    const result = await new JsonRpcTransportHandler(handler).handle(body as Record<string, unknown>, context);
    if (!isStream(result)) return reply.send(result);
    // Heartbeats keep proxies from timing the stream out; each re-checks the key, so a rotated or suspended one ends it.
    const stillValid = () =>
      currentCaller(core.store, caller).then(
        () => true,
        () => false,
      );
    await streamSse(reply, result, closed, core.config.streamHeartbeatSeconds * 1000, stillValid, (err) => {
      bug(err);
      return rpcError(id, INTERNAL_ERROR, `internal_error: ${toAmtpError(err).message}`);
    });
  });
}

const NOT_JSON = Symbol('not JSON');

/** The parsed body (a value that is not a request object the SDK refuses as an invalid request). */
function parseRequest(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return NOT_JSON;
  }
}

const isStream = (value: unknown): value is AsyncGenerator<unknown> =>
  typeof (value as AsyncGenerator | null)?.[Symbol.asyncIterator] === 'function';

async function streamSse(
  reply: FastifyReply,
  stream: AsyncGenerator<unknown>,
  closed: AbortController,
  heartbeatMs: number,
  stillValid: () => Promise<boolean>,
  failed: (error: unknown) => unknown,
): Promise<void> {
  // The first event is awaited before the headers: a refused send still answers as plain JSON-RPC.
  const first = await stream.next();
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, { ...SSE_HEADERS, 'x-content-type-options': 'nosniff' });
  const heartbeat = setInterval(() => {
    raw.write(': heartbeat\n\n');
    void stillValid().then((valid) => valid || closed.abort());
  }, heartbeatMs);
  try {
    if (!first.done) raw.write(formatSSEEvent(first.value));
    for await (const event of { [Symbol.asyncIterator]: () => stream }) {
      if (closed.signal.aborted) break;
      raw.write(formatSSEEvent(event));
    }
  } catch (error) {
    raw.write(formatSSEErrorEvent(failed(error)));
  } finally {
    clearInterval(heartbeat);
    await stream.return(undefined);
    raw.end();
  }
}

const rpcError = (id: unknown, code: number, message: string) => ({ jsonrpc: '2.0', id: id ?? null, error: { code, message } });

/**
 * The A2A request handler of one agent's endpoint, for one authenticated caller: every method
 * translates and calls the core. Push notifications, task lists and extended cards are not offered.
 */
class MailboxAgentHandler implements A2ARequestHandler {
  constructor(
    private readonly core: Mailbox,
    private readonly target: string,
    private readonly caller: Caller,
    private readonly signal: AbortSignal,
    private readonly bug: (error: unknown) => void,
  ) {}

  getAgentCard(): never {
    throw new UnsupportedOperationError({ message: `The AgentCard is at GET ${agentCardPath(this.target)}.` });
  }
  getAuthenticatedExtendedAgentCard(): never {
    throw new ExtendedAgentCardNotConfiguredError();
  }

  async sendMessage(params: SendMessageRequest): Promise<Task> {
    return toTask(await this.amtp(() => this.core.a2aTasks.send(this.caller, toSendInput(this.target, params))));
  }

  async *sendMessageStream(params: SendMessageRequest): AsyncGenerator<StreamResponse> {
    const task = await this.amtp(() => this.core.a2aTasks.send(this.caller, toSendInput(this.target, params)));
    yield* this.follow(task.id);
  }

  async getTask(params: { id: string; historyLength?: number }): Promise<Task> {
    const task = toTask(await this.task(params.id));
    if (params.historyLength === 0) task.history = [];
    return task;
  }

  async cancelTask(params: { id: string }): Promise<Task> {
    await this.task(params.id);
    const { canceled, task } = await this.amtp(() => this.core.a2aTasks.cancel(this.caller, params.id));
    if (!canceled)
      throw new TaskNotCancelableError({
        message: `The message was already ${task.request?.status ?? 'delivered'}: it can no longer be withdrawn.`,
      });
    return toTask(task);
  }

  async *resubscribe(params: { id: string }): AsyncGenerator<StreamResponse> {
    await this.task(params.id);
    yield* this.follow(params.id);
  }

  listTasks(): never {
    throw new UnsupportedOperationError({ message: 'ListTasks is not offered: follow each task with GetTask or a stream.' });
  }
  createTaskPushNotificationConfig(): never {
    throw new PushNotificationNotSupportedError();
  }
  getTaskPushNotificationConfig(): never {
    throw new PushNotificationNotSupportedError();
  }
  listTaskPushNotificationConfigs(): never {
    throw new PushNotificationNotSupportedError();
  }
  deleteTaskPushNotificationConfig(): never {
    throw new PushNotificationNotSupportedError();
  }

  /** The task, first whole, then as status updates, until a terminal state or the client leaves. */
  private async *follow(id: string): AsyncGenerator<StreamResponse> {
    let first = true;
    for await (const task of this.core.a2aTasks.watch(this.caller, id, this.signal)) {
      const value = toTask(task);
      yield first
        ? { payload: { $case: 'task', value } }
        : {
            payload: {
              $case: 'statusUpdate',
              value: { taskId: value.id, contextId: value.contextId, status: value.status, metadata: value.metadata },
            },
          };
      first = false;
    }
  }

  /** A task of the caller's sent to this endpoint's agent; any other id is not found. */
  private async task(id: string): Promise<A2ATask> {
    const task = await this.amtp(() => this.core.a2aTasks.task(this.caller, id));
    const target = await this.core.store.agentById(task.recipient_id);
    if (target?.name !== this.target)
      throw new TaskNotFoundError({ message: 'No task with that id among the messages you sent to this agent.' });
    return task;
  }

  /** Runs a core call; its refusals become A2A errors (the same refusal, whatever the reason it hides). */
  private async amtp<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.toA2AError(error);
    }
  }

  /** An AMTP refusal as the A2A error of §16.3; anything that is neither is a bug, logged and reported without its details. */
  private toA2AError(thrown: unknown): unknown {
    if (thrown instanceof A2AError) return thrown;
    if (!(thrown instanceof AmtpError)) this.bug(thrown);
    return a2aErrorOf(toAmtpError(thrown));
  }
}

function a2aErrorOf(error: AmtpError): A2AError {
  if (error.code === 'message_not_found') return new TaskNotFoundError({ message: error.message });
  const code =
    error.status === 403
      ? A2A_AMTP_ERRORS.permissionDenied
      : error.status === 429
        ? A2A_AMTP_ERRORS.rateLimited
        : error.status === 401
          ? A2A_AMTP_ERRORS.unauthenticated
          : error.status >= 500
            ? INTERNAL_ERROR
            : INVALID_PARAMS;
  const retry = error.retryAfter ? ` Retry after ${error.retryAfter} s.` : '';
  return new JsonRpcTransportError({ jsonrpc: '2.0', id: null, error: { code, message: `${error.code}: ${error.message}${retry}` } });
}

/** What AMTP reads from an A2A message: text parts → body, one data part → payload, metadata.amtp → the other fields. */
function toSendInput(target: string, params: SendMessageRequest): SendInput {
  const message = params.message;
  if (!message) throw new RequestMalformedError({ message: 'params.message is required.' });
  if (message.taskId)
    throw new RequestMalformedError({
      message: 'Each SendMessage is a new task here: leave taskId empty, and put metadata.amtp.reply_to_id to answer in a thread.',
    });
  const texts: string[] = [];
  const data: unknown[] = [];
  for (const part of message.parts) {
    if (part.content?.$case === 'text') texts.push(part.content.value);
    else if (part.content?.$case === 'data') data.push(part.content.value as unknown);
    else
      throw new RequestMalformedError({
        message: 'AMTP carries text and JSON: send text parts and at most one data part (no files or URLs).',
      });
  }
  if (data.length > 1) throw new RequestMalformedError({ message: 'Send at most one data part: it becomes the AMTP payload.' });
  const amtp = (message.metadata?.amtp ?? {}) as Record<string, unknown>;
  const fields = [
    'subject',
    'scope',
    'intent',
    'reply_to_id',
    'sealed',
    'sealed_for_sender',
    'ed25519_signature',
    'sig_nonce',
    'signed_at',
  ];
  const parsed = SendInput.safeParse({
    recipient_id: target,
    ...(texts.length ? { body: texts.join('\n\n') } : {}),
    ...(data.length ? { payload: data[0] } : {}),
    ...(message.messageId ? { client_id: message.messageId } : {}),
    ...Object.fromEntries(fields.filter((f) => amtp[f] !== undefined).map((f) => [f, amtp[f]])),
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
    throw new RequestMalformedError({ message: `invalid_request: ${issues}` });
  }
  return parsed.data;
}

function toTask(t: A2ATask): Task {
  return {
    id: t.id,
    contextId: t.context_id,
    status: { state: STATES[t.state], message: t.reply ? toA2AMessage(t.reply, Role.ROLE_AGENT, t) : undefined, timestamp: t.updated_at },
    artifacts: [],
    history: t.request ? [toA2AMessage(t.request, Role.ROLE_USER, t)] : [],
    metadata: { amtp: { message_id: t.id, thread_id: t.context_id, status: t.request?.status ?? 'withdrawn' } },
  };
}

/** An AMTP message as an A2A message; its AMTP fields (sender, signature, MAC…) ride in metadata.amtp. */
function toA2AMessage(m: Message, role: Role, t: A2ATask): A2AMessage {
  const parts: Part[] = [];
  if (m.body !== null)
    parts.push({ content: { $case: 'text', value: m.body }, metadata: undefined, filename: '', mediaType: 'text/plain' });
  if (m.payload !== null && m.payload !== undefined)
    parts.push({ content: { $case: 'data', value: m.payload }, metadata: undefined, filename: '', mediaType: 'application/json' });
  if (m.sealed)
    parts.push({
      content: { $case: 'data', value: { sealed: m.sealed } },
      metadata: undefined,
      filename: '',
      mediaType: 'application/vnd.amtp.sealed+json',
    });
  const fields = Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'body' && k !== 'payload' && k !== 'sealed'));
  return {
    messageId: m.id,
    contextId: t.context_id,
    taskId: t.id,
    role,
    parts,
    metadata: { amtp: fields },
    extensions: [],
    referenceTaskIds: [],
  };
}
