/**
 * How A2A requests leave the server: the official `@a2a-js/sdk` client (card resolution, JSON-RPC),
 * given a fetch that applies the webhook target rules to every URL it is asked for — the card's and
 * the endpoint the card names — and connects only to the address it checked. Redirects are refused,
 * time and response size are capped.
 */
import { randomUUID } from 'node:crypto';
import { Role, TaskState, type Message, type Part, type Task } from '@a2a-js/sdk';
import { ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { A2AError } from '@a2a-js/sdk/errors';
import { fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import type { A2AAnswer, A2AOutboundRequest, A2ATransport } from '../core/a2a-outbound.js';
import { AmtpError } from '../protocol/errors.js';
import { checkTarget, resolveTarget, systemResolver, type Resolver } from './resolve.js';
import { PinnedPools } from './safe-fetch.js';
import { parseWebhookUrl, type WebhookPolicy } from './url-policy.js';

const MAX_RESPONSE_BYTES = 1024 * 1024;
/** JSON-RPC's internal error: the agent's own failure, worth retrying; any other error code is its answer. */
const INTERNAL_ERROR = -32603;

export function a2aTransport(policy: WebhookPolicy & { timeoutSeconds?: number }, resolver: Resolver = systemResolver): A2ATransport {
  const totalTimeoutMs = (policy.timeoutSeconds ?? 15) * 1000;
  const pools = new PinnedPools();
  const fetchImpl = checkedFetch(policy, resolver, pools, totalTimeoutMs);
  const cards = new DefaultAgentCardResolver({ fetchImpl });
  const clients = new ClientFactory({ transports: [new JsonRpcTransportFactory({ fetchImpl })], cardResolver: cards });
  return {
    check: (url) =>
      checkTarget(
        url,
        policy,
        resolver,
        (error) =>
          new AmtpError('invalid_agent_card_url', `${error.message}. Use the public https URL of the agent's AgentCard.`, {
            reason: error.code,
          }),
      ),
    async send(cardUrl, request) {
      const card = await cards.resolve(cardUrl, '');
      const client = await clients.createFromAgentCard(card);
      try {
        const result = await client.sendMessage(
          {
            tenant: '',
            message: outgoing(request),
            configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false },
            metadata: undefined,
          },
          { signal: AbortSignal.timeout(totalTimeoutMs) },
        );
        return answer(card.name, result);
      } catch (error) {
        const code = error instanceof A2AError ? (error as A2AError & { envelopeCode?: number }).envelopeCode : undefined;
        if (code === undefined || code === INTERNAL_ERROR) throw error;
        return {
          agent_name: card.name,
          state: null,
          task_id: null,
          context_id: null,
          text: null,
          data: [],
          error: { code, message: (error as Error).message },
        };
      }
    },
    close: () => pools.close(),
  };
}

/** A fetch for the SDK that only reaches checked addresses. */
function checkedFetch(policy: WebhookPolicy, resolver: Resolver, pools: PinnedPools, totalTimeoutMs: number): typeof fetch {
  return async (input, init) => {
    const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const target = await resolveTarget(parseWebhookUrl(raw, policy), policy, resolver);
    const pool = pools.get(target, 5_000, totalTimeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(totalTimeoutMs)]) : AbortSignal.timeout(totalTimeoutMs);
    try {
      const res = await undiciFetch(target.url, { ...(init as UndiciRequestInit), dispatcher: pool.agent, redirect: 'error', signal });
      const body = await cappedText(res.body);
      return new Response(body, { status: res.status, headers: Object.fromEntries(res.headers) });
    } catch (error) {
      pools.evict(pool);
      throw error;
    }
  };
}

async function cappedText(body: AsyncIterable<Uint8Array> | null): Promise<string> {
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) throw new Error(`the A2A agent answered with more than ${MAX_RESPONSE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function outgoing(r: A2AOutboundRequest): Message {
  const parts: Part[] = [];
  const text = [r.subject, r.body].filter((s) => s).join('\n\n');
  if (text) parts.push({ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' });
  if (r.payload !== null && r.payload !== undefined)
    parts.push({ content: { $case: 'data', value: r.payload }, metadata: undefined, filename: '', mediaType: 'application/json' });
  return {
    messageId: r.message_id || randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts,
    metadata: { amtp: { message_id: r.message_id } },
    extensions: [],
    referenceTaskIds: [],
  };
}

function answer(agentName: string, result: Message | Task): A2AAnswer {
  if ('messageId' in result)
    return {
      agent_name: agentName,
      state: null,
      task_id: null,
      context_id: result.contextId || null,
      ...content(result.parts),
      error: null,
    };
  const parts = [...(result.status?.message?.parts ?? []), ...result.artifacts.flatMap((a) => a.parts)];
  return {
    agent_name: agentName,
    state: stateName(result.status?.state),
    task_id: result.id,
    context_id: result.contextId || null,
    ...content(parts),
    error: null,
  };
}

function content(parts: Part[]): { text: string | null; data: unknown[] } {
  const texts = parts.flatMap((p) => (p.content?.$case === 'text' ? [p.content.value] : []));
  const data = parts.flatMap((p) =>
    p.content?.$case === 'data'
      ? [p.content.value as unknown]
      : p.content?.$case === 'url'
        ? [{ url: p.content.value, media_type: p.mediaType }]
        : [],
  );
  return { text: texts.length ? texts.join('\n\n') : null, data };
}

/** TASK_STATE_COMPLETED → "completed". */
const stateName = (state: TaskState | undefined) =>
  state === undefined ? 'unspecified' : (TaskState[state] ?? 'unspecified').replace(/^TASK_STATE_/, '').toLowerCase();
