/**
 * How federation requests leave the server: the webhook rules (src/delivery/safe-fetch.ts) — no
 * loopback, private or link-local targets, DNS pinned to the checked address, no redirects, capped
 * time and response size — under the federation switches (AMTP_FEDERATION_ALLOW_HTTP / _LOOPBACK).
 */
import type { FederationTransport } from '../core/federation.js';
import { PinnedPools, safePost } from './safe-fetch.js';
import { systemResolver, type Resolver } from './resolve.js';

export function federationTransport(
  policy: { allowHttp: boolean; allowLoopback: boolean; timeoutSeconds?: number },
  resolver: Resolver = systemResolver,
): FederationTransport & { close(): Promise<void> } {
  const pools = new PinnedPools();
  const urlPolicy = { allowHttp: policy.allowHttp, allowLoopback: policy.allowLoopback, allowedPorts: null };
  return {
    async request(method, url, body, headers) {
      const res = await safePost(url, body, headers, {
        policy: urlPolicy,
        resolver,
        pools,
        method,
        totalTimeoutMs: (policy.timeoutSeconds ?? 15) * 1000,
        maxResponseBytes: 256 * 1024,
      });
      return { status: res.status, body: res.body, headers: res.headers };
    },
    close: () => pools.close(),
  };
}
