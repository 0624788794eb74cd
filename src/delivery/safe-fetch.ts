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
  /** Keep-alive pools to reuse (a transport's); without, the connection is closed after the call. */
  pools?: PinnedPools;
  /** POST unless said otherwise (federation also GETs /.well-known/amtp, with a null body). */
  method?: 'GET' | 'POST';
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
  body: string | null,
  headers: Record<string, string>,
  opts: SafePostOptions,
): Promise<{ status: number; body: string; address: string; headers: Record<string, string> }> {
  const target = await resolveTarget(parseWebhookUrl(rawUrl, opts.policy), opts.policy, opts.resolver ?? systemResolver);
  const totalTimeoutMs = opts.totalTimeoutMs ?? 15_000;
  const pools = opts.pools ?? new PinnedPools();
  const dispatcher = pools.get(target, opts.connectTimeoutMs ?? 5_000, totalTimeoutMs);
  const signal = AbortSignal.timeout(totalTimeoutMs);
  try {
    const res = await request(target.url, { method: opts.method ?? 'POST', headers, body, dispatcher: dispatcher.agent, signal });
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
    const answered: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') answered[name] = value;
    return { status: res.statusCode, body: text, address: target.address, headers: answered };
  } catch (error) {
    pools.evict(dispatcher);
    if (error instanceof DeliveryError) throw error;
    if (signal.aborted || /timeout/i.test((error as Error).name + (error as { code?: string }).code)) {
      throw new DeliveryError('timeout', `The endpoint did not answer within ${totalTimeoutMs} ms`);
    }
    throw new DeliveryError('connection_failed', `Could not reach the endpoint: ${(error as Error).message}`);
  } finally {
    if (!opts.pools) void pools.close();
  }
}

interface Pool {
  key: string;
  agent: Agent;
}

/**
 * Keep-alive connection pools, one per (origin, checked address): a pool's lookup always answers
 * with the address in its key, so reusing it never reaches anything but that checked address.
 */
export class PinnedPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly max = 256) {}

  get(target: { url: URL; address: string; family: number }, connectTimeoutMs: number, totalTimeoutMs: number): Pool {
    const key = `${target.url.origin}|${target.address}|${connectTimeoutMs}|${totalTimeoutMs}`;
    const cached = this.pools.get(key);
    if (cached) return cached;
    const pinned: LookupFunction = (_hostname, options, callback) => {
      if ((options as { all?: boolean }).all)
        (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
          { address: target.address, family: target.family },
        ]);
      else callback(null, target.address, target.family);
    };
    const agent = new Agent({
      connect: { lookup: pinned, timeout: connectTimeoutMs },
      headersTimeout: totalTimeoutMs,
      bodyTimeout: totalTimeoutMs,
      keepAliveTimeout: 10_000,
      connections: 4,
    });
    if (this.pools.size >= this.max) this.evict(this.pools.values().next().value!);
    const pool = { key, agent };
    this.pools.set(key, pool);
    return pool;
  }

  /** Drops a pool whose connection failed or timed out; the next delivery starts afresh. */
  evict(pool: Pool): void {
    if (this.pools.get(pool.key) === pool) this.pools.delete(pool.key);
    void pool.agent.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.agent.close()));
  }
}
