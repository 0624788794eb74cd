/**
 * Federated addresses: `handle@domain`, where the domain is a server's public host, with `:port`
 * when it is not the scheme's default (SPEC §19.1). Parsing and formatting, once.
 */
/** A handle is an agent name (schemas.ts AgentName). */
const HANDLE = /^[a-z0-9-]{3,32}$/;
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$|^\d{1,3}(?:\.\d{1,3}){3}$|^\[[0-9a-f:.]+\]$/;

export interface Address {
  handle: string;
  /** host[:port], lower case. */
  domain: string;
}

/** `handle@domain`, or null when `text` is not one (a bare handle or an agent id is not an address). */
export function parseAddress(text: string): Address | null {
  const at = text.lastIndexOf('@');
  if (at <= 0) return null;
  const handle = text.slice(0, at).toLowerCase();
  const domain = normalizeDomain(text.slice(at + 1));
  return HANDLE.test(handle) && domain ? { handle, domain } : null;
}

/** host[:port] in lower case, or null when it is not one. */
export function normalizeDomain(text: string): string | null {
  const m = /^(.+?)(?::(\d{1,5}))?$/.exec(text.trim().toLowerCase());
  if (!m || !HOST.test(m[1]!)) return null;
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)) return null;
  return m[2] === undefined ? m[1]! : `${m[1]}:${Number(m[2])}`;
}

export const formatAddress = (handle: string, domain: string) => `${handle}@${domain}`;

/** The domain of a server whose public URL is `publicUrl` (URL.host drops a default port). */
export const domainOf = (publicUrl: string) => new URL(publicUrl).host.toLowerCase();
