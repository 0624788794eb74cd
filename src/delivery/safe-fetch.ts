/**
 * One webhook POST that cannot be steered to an internal address: the target is resolved and checked
 * once, and the connection is pinned to that checked address (no second lookup, so DNS rebinding
 * cannot swap it). Redirects are never followed; connect and total time and the response size are capped.
 */
import { Agent, request } from 'undici';
import type { LookupFunction } from 'node:net';
import { resolveTarget, systemResolver, type Resolver } from './resolve.js';
import { parseWebhookUrl, type WebhookPolicy } from './url-policy.js';

export interface SafePostOptions {
  policy: WebhookPolicy;
  resolver?: Resolver;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  maxResponseBytes?: number;
}

export type DeliveryErrorCode = 'timeout' | 'connection_failed' | 'response_too_large';

export class DeliveryError extends Error {
  constructor(
    readonly code: DeliveryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export async function safePost(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  opts: SafePostOptions,
): Promise<{ status: number; body: string; address: string }> {
  const target = await resolveTarget(parseWebhookUrl(rawUrl, opts.policy), opts.policy, opts.resolver ?? systemResolver);
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const totalTimeoutMs = opts.totalTimeoutMs ?? 15_000;
  const dispatcher = new Agent({
    connect: { lookup: pinned, timeout: opts.connectTimeoutMs ?? 5_000 },
    headersTimeout: totalTimeoutMs,
    bodyTimeout: totalTimeoutMs,
    pipelining: 0,
  });
  const signal = AbortSignal.timeout(totalTimeoutMs);
  try {
    const res = await request(target.url, { method: 'POST', headers, body, dispatcher, signal });
    const max = opts.maxResponseBytes ?? 64 * 1024;
    let text = '';
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        res.body.destroy();
        throw new DeliveryError('response_too_large', `The endpoint answered with more than ${max} bytes`);
      }
      text += (chunk as Buffer).toString('utf8');
    }
    return { status: res.statusCode, body: text, address: target.address };
  } catch (error) {
    if (error instanceof DeliveryError) throw error;
    if (signal.aborted || /timeout/i.test((error as Error).name + (error as { code?: string }).code)) {
      throw new DeliveryError('timeout', `The endpoint did not answer within ${totalTimeoutMs} ms`);
    }
    throw new DeliveryError('connection_failed', `Could not reach the endpoint: ${(error as Error).message}`);
  } finally {
    void dispatcher.close().catch(() => undefined);
  }
}
