/** Which webhook URLs are acceptable at all, before any address is looked at. */
import ipaddr from 'ipaddr.js';

export interface WebhookPolicy {
  /** Plain http (operator opt-in); https only otherwise. */
  allowHttp: boolean;
  /** null: any port. */
  allowedPorts: number[] | null;
  /** Tests and local development only: permits 127.0.0.0/8 and ::1, nothing else private. */
  allowLoopback: boolean;
}

export const defaultWebhookPolicy: WebhookPolicy = { allowHttp: false, allowedPorts: null, allowLoopback: false };

export type WebhookUrlErrorCode =
  'invalid_url' | 'scheme_not_allowed' | 'credentials_in_url' | 'port_not_allowed' | 'forbidden_address' | 'unresolvable_host';

export class WebhookUrlError extends Error {
  constructor(
    readonly code: WebhookUrlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookUrlError';
  }
}

export const MAX_URL_LENGTH = 2048;

export function parseWebhookUrl(raw: string, policy: WebhookPolicy): URL {
  if (raw.length > MAX_URL_LENGTH) throw new WebhookUrlError('invalid_url', `The URL is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError('invalid_url', 'The URL cannot be parsed');
  }
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol))
    throw new WebhookUrlError('scheme_not_allowed', `The scheme ${url.protocol} is not allowed (${schemes.join(' or ')} only)`);
  if (url.username || url.password) throw new WebhookUrlError('credentials_in_url', 'The URL must not carry credentials');
  if (!url.hostname) throw new WebhookUrlError('invalid_url', 'The URL has no host');
  if (url.hash) throw new WebhookUrlError('invalid_url', 'The URL must not carry a fragment');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (policy.allowedPorts && !policy.allowedPorts.includes(port))
    throw new WebhookUrlError('port_not_allowed', `Port ${port} is not allowed (${policy.allowedPorts.join(', ')})`);
  return url;
}

/** The host as an IP literal (brackets removed), or null for a name. WHATWG URL already normalised 0x7f.1 and friends. */
export function ipLiteral(url: URL): string | null {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return ipaddr.isValid(host) ? host : null;
}
