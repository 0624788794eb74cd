/**
 * How webhook deliveries leave the server: every URL is checked against the SSRF policy when it is
 * set and again at every delivery, and the connection goes only to the address that was checked.
 */
import type { WebhookTransport } from '../core/webhooks.js';
import { AmtpError } from '../protocol/errors.js';
import { PinnedPools, safePost } from './safe-fetch.js';
import { checkTarget, systemResolver, type Resolver } from './resolve.js';
import type { WebhookPolicy } from './url-policy.js';

export function httpTransport(policy: WebhookPolicy & { timeoutSeconds?: number }, resolver: Resolver = systemResolver): WebhookTransport {
  const totalTimeoutMs = (policy.timeoutSeconds ?? 15) * 1000;
  const pools = new PinnedPools();
  return {
    check: (url) =>
      checkTarget(
        url,
        policy,
        resolver,
        (error) => new AmtpError('invalid_webhook_url', `${error.message}. Use a public https URL.`, { reason: error.code }),
      ),
    async post(url, body, headers) {
      const result = await safePost(url, body, headers, { policy, resolver, totalTimeoutMs, pools });
      return { status: result.status };
    },
    close: () => pools.close(),
  };
}
