/** Resolve a webhook host once, and check every address it resolves to. */
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { isForbiddenAddress } from './address-policy.js';
import type { AmtpError } from '../protocol/errors.js';
import { ipLiteral, parseWebhookUrl, WebhookUrlError, type WebhookPolicy } from './url-policy.js';

export type Resolver = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface Target {
  url: URL;
  address: string;
  family: 4 | 6;
}

function isLoopback(ip: string): boolean {
  const addr = ipaddr.process(ip);
  return addr.range() === 'loopback';
}

function assertAllowed(ip: string, policy: WebhookPolicy): void {
  if (policy.allowLoopback && isLoopback(ip)) return;
  const reason = isForbiddenAddress(ip);
  if (reason) throw new WebhookUrlError('forbidden_address', `The webhook host points to a non-public address (${reason})`);
}

/**
 * The single address a delivery may connect to. IP literals are checked as they are (Node skips a
 * custom lookup for them); names are resolved once and refused if any answer is not allowed.
 */
export async function resolveTarget(url: URL, policy: WebhookPolicy, resolver: Resolver = systemResolver): Promise<Target> {
  const literal = ipLiteral(url);
  if (literal) {
    assertAllowed(literal, policy);
    return { url, address: literal, family: ipaddr.parse(literal).kind() === 'ipv6' ? 6 : 4 };
  }
  let answers: { address: string; family: 4 | 6 }[];
  try {
    answers = await resolver(url.hostname);
  } catch {
    throw new WebhookUrlError('unresolvable_host', `The host ${url.hostname} does not resolve`);
  }
  if (answers.length === 0) throw new WebhookUrlError('unresolvable_host', `The host ${url.hostname} does not resolve`);
  for (const a of answers) assertAllowed(a.address, policy);
  return { url, ...answers[0]! };
}

/**
 * Checks a URL a client gives (a webhook, an AgentCard) against the target rules and resolves it; a
 * refused URL becomes the API error `refused` makes of it, anything else (DNS down) propagates.
 */
export async function checkTarget(
  url: string,
  policy: WebhookPolicy,
  resolver: Resolver,
  refused: (error: WebhookUrlError) => AmtpError,
): Promise<void> {
  try {
    await resolveTarget(parseWebhookUrl(url, policy), policy, resolver);
  } catch (error) {
    if (error instanceof WebhookUrlError) throw refused(error);
    throw error;
  }
}
