/**
 * The AMTP REST API as one table: every operation once, by name — its method, path, who may call it
 * and its success status. Zod-free on purpose, so the SDK (and the web bundle) can build requests
 * from it without the schemas; the wire schemas of each operation sit beside it in
 * operation-schemas.ts. Everything else is derived: the Fastify routes, the SDK's AmtpClient, the
 * MCP tool bindings, the OpenAPI document and the SPEC's endpoint reference.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Operation {
  method: HttpMethod;
  /** Fastify-style path: `:name` marks a path parameter. */
  path: string;
  /** 'agent': a Bearer API key is required. 'public': no auth. */
  auth: 'agent' | 'public';
  /** Success status; 200 unless stated. */
  status?: number;
}

const withStatus = (status?: number) => (status === undefined ? {} : { status });
/** An operation for a registered agent: a Bearer API key is required. */
const op = (method: HttpMethod, path: string, status?: number) => ({ method, path, auth: 'agent' as const, ...withStatus(status) });
/** An operation anyone may call. */
const publicOp = (method: HttpMethod, path: string, status?: number) => ({ method, path, auth: 'public' as const, ...withStatus(status) });

/** The name of each operation is also the SDK method that calls it. */
export const OPERATIONS = {
  // identity
  register: publicOp('POST', '/api/register', 201),
  whoami: op('GET', '/api/me'),
  rotateApiKey: op('POST', '/api/me/api-key/rotate'),
  setKeys: op('PUT', '/api/me/keys'),
  rotateDeliverySecret: op('POST', '/api/me/delivery-secret/rotate'),
  profile: publicOp('GET', '/api/agents/:id'),

  // capabilities
  setCapabilities: op('PUT', '/api/me/capabilities'),
  capabilities: publicOp('GET', '/api/agents/:id/capabilities'),
  taxonomy: publicOp('GET', '/api/taxonomy'),

  // consent
  requestContact: op('POST', '/api/contact-requests', 201),
  listRequests: op('GET', '/api/contact-requests'),
  approve: op('POST', '/api/contact-requests/:id/approve'),
  decline: op('POST', '/api/contact-requests/:id/decline'),
  authorize: op('POST', '/api/authorizations'),
  revoke: op('DELETE', '/api/authorizations/:id'),
  block: op('POST', '/api/blocks'),
  unblock: op('DELETE', '/api/blocks/:id'),
  peers: op('GET', '/api/peers'),

  // messages
  send: op('POST', '/api/messages', 202),
  message: op('GET', '/api/messages/:id'),
  markRead: op('POST', '/api/messages/:id/read'),
  inbox: op('GET', '/api/inbox'),
  markAllRead: op('POST', '/api/inbox/read'),
  outbox: op('GET', '/api/outbox'),
  conversations: op('GET', '/api/conversations'),
  conversation: op('GET', '/api/conversations/:id'),
  markConversationRead: op('POST', '/api/conversations/:id/read'),
  thread: op('GET', '/api/threads/:thread_id'),

  // A2A bridge (outbound)
  sendA2A: op('POST', '/api/a2a/messages', 202),

  // webhooks
  setWebhook: op('PUT', '/api/me/webhook'),
  webhook: op('GET', '/api/me/webhook'),
  deleteWebhook: op('DELETE', '/api/me/webhook'),
  testWebhook: op('POST', '/api/me/webhook/test'),
  webhookDeliveries: op('GET', '/api/me/webhook/deliveries'),
  redeliver: op('POST', '/api/me/webhook/deliveries/:id/redeliver'),

  // audit
  audit: op('GET', '/api/me/audit'),
  verifyAudit: op('GET', '/api/me/audit/verify'),

  // guard rails (SPEC §17)
  guard: op('GET', '/api/me/guard'),
  setGuard: op('PUT', '/api/me/guard'),
  setBudget: op('PUT', '/api/peers/:id/budget'),
  clearLoop: op('DELETE', '/api/threads/:thread_id/loop'),
  held: op('GET', '/api/held'),
  approveHeld: op('POST', '/api/held/:id/approve', 202),
  discardHeld: op('DELETE', '/api/held/:id'),
  // attention (issue 18)
  digest: op('GET', '/api/inbox/digest'),
  ack: op('POST', '/api/messages/:id/processed'),
  declineDeadline: op('POST', '/api/messages/:id/deadline/decline'),
  quietHours: op('GET', '/api/me/quiet-hours'),
  setQuietHours: op('PUT', '/api/me/quiet-hours'),
  deleteQuietHours: op('DELETE', '/api/me/quiet-hours'),
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;

export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

/** Fills a path's `:name` parameters (each URL-encoded). */
export function operationPath(name: OperationName, params: Record<string, string> = {}): string {
  return OPERATIONS[name].path.replace(/:(\w+)/g, (_m, key: string) => {
    const value = params[key];
    if (value === undefined) throw new TypeError(`${name}: missing path parameter ${key}`);
    return encodeURIComponent(value);
  });
}
