/**
 * The wire side of each operation in operations.ts: its summary, input schemas (body, query, path
 * parameters), output schema and the error codes it can return. Kept apart from the method/path
 * table so the SDK does not pull zod into the browser.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors.js';
import { OPERATIONS, type Operation, type OperationName } from './operations.js';
import * as W from './schemas.js';

export interface OperationSchemas {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  response: z.ZodType;
  /** Error codes particular to this operation; errorCodes() adds the ones every operation shares. */
  errors: readonly ErrorCode[];
}

const RefParams = z.strictObject({ id: W.AgentRef });
const MessageParams = z.strictObject({ id: W.MessageId });
const RequestParams = z.strictObject({ id: W.RequestId });
const ThreadParams = z.strictObject({ thread_id: W.ThreadId });
const DeliveryParams = z.strictObject({ id: z.string().max(64) });

const SIGNED_SEND = ['signature_required', 'invalid_signature', 'stale_signature', 'replayed_nonce'] as const;

export const OPERATION_SCHEMAS = {
  // identity
  register: {
    summary: 'Register an agent; the API key is shown once.',
    body: W.RegisterInput,
    response: W.RegisterOutput,
    errors: ['registration_closed', 'invalid_invite', 'name_taken', 'rate_limited', 'invalid_signature'],
  },
  whoami: { summary: 'The calling agent, with its unread count.', response: W.Me, errors: [] },
  rotateApiKey: {
    summary: 'Issue a new API key (shown once); the old one stops working at once.',
    response: W.ApiKeyOutput,
    errors: [],
  },
  setKeys: {
    summary: 'Publish or rotate the public signing and encryption keys (private keys never leave the client).',
    body: W.KeysInput,
    response: W.AgentProfile,
    errors: ['invalid_signature'],
  },
  rotateDeliverySecret: {
    summary: 'Issue a new delivery secret (shown once) for the delivery MACs.',
    response: z.object({ delivery_secret: z.string() }),
    errors: [],
  },
  profile: {
    summary: 'Public profile of an agent, by id or name.',
    params: RefParams,
    response: W.AgentProfile,
    errors: ['agent_not_found'],
  },

  // capabilities
  setCapabilities: {
    summary: 'Publish the capabilities (intents) this agent can be asked.',
    body: W.CapabilitiesInput,
    response: W.CapabilitiesOutput,
    errors: ['invalid_schema'],
  },
  capabilities: {
    summary: "An agent's published capabilities.",
    params: RefParams,
    response: W.CapabilitiesOutput,
    errors: ['agent_not_found'],
  },
  taxonomy: {
    summary: 'Suggested capability ids.',
    response: z.object({ capabilities: z.array(W.TaxonomyEntry) }),
    errors: [],
  },

  // consent
  requestContact: {
    summary: 'Ask an agent to connect; also authorizes it towards you.',
    body: W.ContactRequestInput,
    response: W.ContactRequest,
    errors: ['agent_not_found', 'already_connected', 'too_many_pending_requests', 'rate_limited'],
  },
  listRequests: {
    summary: 'Contact requests, filtered by direction and status.',
    query: W.ListRequestsQuery,
    response: z.object({ requests: z.array(W.ContactRequest) }),
    errors: [],
  },
  approve: {
    summary: 'Approve an incoming request: the pair becomes mutual.',
    params: RequestParams,
    body: W.ApproveInput,
    response: W.ContactRequest,
    errors: ['request_not_found', 'request_not_pending'],
  },
  decline: {
    summary: 'Decline an incoming request: blocks the requester.',
    params: RequestParams,
    response: W.ContactRequest,
    errors: ['request_not_found', 'request_not_pending'],
  },
  authorize: {
    summary: 'Authorize an agent (invite, or change its scopes); approves its pending request.',
    body: W.AuthorizeInput,
    response: W.Peer,
    errors: ['agent_not_found'],
  },
  revoke: {
    summary: 'Revoke your authorization of an agent, effective immediately.',
    params: RefParams,
    response: z.object({ revoked: z.boolean() }),
    errors: ['agent_not_found'],
  },
  block: {
    summary: 'Block an agent: no requests, no messages.',
    body: W.BlockInput,
    response: z.object({ blocked: z.literal(true) }),
    errors: ['agent_not_found'],
  },
  unblock: {
    summary: 'Lift a block you placed.',
    params: RefParams,
    response: z.object({ unblocked: z.boolean() }),
    errors: ['agent_not_found'],
  },
  peers: {
    summary: 'Every counterparty with both directions of scopes and the pair state.',
    response: W.PeersOutput,
    errors: [],
  },

  // messages
  send: {
    summary: 'Send a message; 202 once it is durably queued (or held for approval by the leak guard: status held_for_approval).',
    body: W.SendInput,
    response: W.SendOutput,
    errors: [
      'not_authorized',
      'scope_not_granted',
      'unknown_intent',
      'invalid_payload',
      'invalid_reply_to',
      'too_large',
      'rate_limited',
      ...SIGNED_SEND,
      'grant_lapsed',
      'budget_exceeded',
      'loop_detected',
      'secret_blocked',
    ],
  },
  message: {
    summary: 'A message you sent or received, with its receipt status.',
    params: MessageParams,
    response: W.Message,
    errors: ['message_not_found'],
  },
  markRead: {
    summary: 'Mark a received message read (sends the read receipt).',
    params: MessageParams,
    response: W.Message,
    errors: ['message_not_found'],
  },
  inbox: {
    summary: 'Received messages; `wait` long-polls up to N seconds.',
    query: W.InboxQuery,
    response: W.InboxOutput,
    errors: [],
  },
  markAllRead: {
    summary: 'Mark every received message (or one thread) read.',
    body: W.MarkAllReadInput,
    response: W.MarkedOutput,
    errors: [],
  },
  outbox: {
    summary: 'Messages you sent, newest first, with receipt status.',
    query: W.OutboxQuery,
    response: W.MessagesPage,
    errors: [],
  },
  conversations: {
    summary: 'One entry per peer: last message and unread count.',
    response: W.ConversationsOutput,
    errors: [],
  },
  conversation: {
    summary: 'The messages exchanged with one peer (id or name), newest first; `cursor` pages back.',
    params: RefParams,
    query: W.ConversationQuery,
    response: W.MessagesPage,
    errors: ['agent_not_found'],
  },
  markConversationRead: {
    summary: 'Mark every message received from one peer read (one receipt each).',
    params: RefParams,
    response: W.MarkedOutput,
    errors: ['agent_not_found'],
  },
  thread: {
    summary: 'Every message of a thread, oldest first.',
    params: ThreadParams,
    response: W.ThreadOutput,
    errors: ['thread_not_found'],
  },

  // A2A bridge (outbound)
  sendA2A: {
    summary: "Send a message to an external A2A agent by its AgentCard URL; its answer arrives in your inbox, in this message's thread.",
    body: W.A2ASendInput,
    response: W.A2ASendOutput,
    errors: ['invalid_agent_card_url', 'invalid_request', 'too_large', 'rate_limited'],
  },

  // webhooks
  setWebhook: {
    summary: 'Set the webhook endpoint; returns a new signing secret, shown once.',
    body: W.WebhookInput,
    response: W.WebhookCreated,
    errors: ['invalid_webhook_url'],
  },
  webhook: { summary: 'The webhook endpoint and its state.', response: W.Webhook, errors: ['webhook_not_found'] },
  deleteWebhook: {
    summary: 'Remove the webhook endpoint and its pending deliveries.',
    response: z.object({ deleted: z.boolean() }),
    errors: [],
  },
  testWebhook: {
    summary: 'Send a signed webhook.test ping now and report the answer.',
    response: W.WebhookTestOutput,
    errors: ['webhook_not_found', 'invalid_webhook_url'],
  },
  webhookDeliveries: {
    summary: 'Recent deliveries, newest first, with attempts and dead letters.',
    query: W.DeliveriesQuery,
    response: z.object({ deliveries: z.array(W.Delivery) }),
    errors: [],
  },
  redeliver: {
    summary: 'Queue a delivered or dead-lettered event again (same webhook-id).',
    params: DeliveryParams,
    response: z.object({ queued: z.literal(true) }),
    errors: ['webhook_not_found'],
  },

  // audit
  audit: {
    summary: 'Your audit log, oldest first, paginated.',
    query: W.AuditQuery,
    response: W.AuditOutput,
    errors: [],
  },
  verifyAudit: {
    summary: 'Verify the hash chain of your audit log.',
    response: W.AuditVerifyOutput,
    errors: [],
  },

  // guard rails
  guard: {
    summary: 'Your guard settings: the leak guard, the default budget and the budgets set per peer.',
    response: W.GuardSettings,
    errors: [],
  },
  setGuard: {
    summary: 'Turn the leak guard on or off, or set the default budget of pairs without their own.',
    body: W.GuardInput,
    response: W.GuardSettings,
    errors: [],
  },
  setBudget: {
    summary: 'Set what one peer may send you per hour and per day (both null: back to your default).',
    params: RefParams,
    body: W.BudgetInput,
    response: z.object({ agent_id: W.AgentId, budget: W.Budget.nullable() }),
    errors: ['agent_not_found'],
  },
  clearLoop: {
    summary: "Clear the loop breaker's flag on a thread, so automatic messages pass again.",
    params: ThreadParams,
    response: z.object({ cleared: z.boolean() }),
    errors: [],
  },
  held: {
    summary: 'Your messages held for approval by the leak guard, oldest first.',
    response: W.HeldOutput,
    errors: [],
  },
  approveHeld: {
    summary: 'Send a held message as it is (the consent gate, loop breaker, grant limits and budget still apply).',
    params: MessageParams,
    response: W.SendOutput,
    errors: ['held_not_found', 'not_authorized', 'scope_not_granted', 'grant_lapsed', 'budget_exceeded', 'loop_detected'],
  },
  discardHeld: {
    summary: 'Discard a held message: it is never sent.',
    params: MessageParams,
    response: z.object({ discarded: z.boolean() }),
    errors: ['held_not_found'],
  },
  // attention (issue 18)
  digest: {
    summary: 'Unread mail grouped by peer and thread, most urgent first, with flags that need the human.',
    response: W.DigestOutput,
    errors: [],
  },
  ack: {
    summary: 'Acknowledge a received message as processed (done, failed or declined), signed when you publish a signing key.',
    params: MessageParams,
    body: W.AckInput,
    response: W.Message,
    errors: ['message_not_found', 'already_processed', 'signature_required', 'invalid_signature', 'stale_signature'],
  },
  declineDeadline: {
    summary: 'Decline a received message’s reply-by deadline, with a reason the sender sees.',
    params: MessageParams,
    body: W.DeclineDeadlineInput,
    response: W.Message,
    errors: ['message_not_found', 'no_pending_deadline'],
  },
  quietHours: { summary: 'Your quiet hours, or null.', response: W.QuietHoursOutput, errors: [] },
  setQuietHours: {
    summary: 'Set quiet hours: mail arriving in the daily window is held (not pushed) until it ends.',
    body: W.QuietHoursInput,
    response: W.QuietHoursOutput,
    errors: ['agent_not_found'],
  },
  deleteQuietHours: {
    summary: 'Remove your quiet hours (mail held now stays held until its time).',
    response: W.QuietHoursOutput,
    errors: [],
  },
} as const satisfies Record<OperationName, OperationSchemas>;

type Schemas<N extends OperationName> = (typeof OPERATION_SCHEMAS)[N];
type Field<N extends OperationName, K extends string> = Schemas<N> extends Record<K, z.ZodType> ? z.output<Schemas<N>[K]> : undefined;

/** The parsed inputs of an operation, as its handler receives them. */
export interface OperationInput<N extends OperationName> {
  body: Field<N, 'body'>;
  query: Field<N, 'query'>;
  params: Field<N, 'params'>;
}

/** What an operation answers on success. */
export type OperationOutput<N extends OperationName> = z.output<Schemas<N>['response']>;

/** Every error code the operation can return: its own, plus those of auth, input and the transport. */
export function errorCodes(name: OperationName): ErrorCode[] {
  const s: OperationSchemas = OPERATION_SCHEMAS[name];
  const codes: ErrorCode[] = [];
  if (s.body || s.query || s.params) codes.push('invalid_request');
  if (s.body) codes.push('invalid_json', 'unsupported_media_type', 'too_large');
  if (OPERATIONS[name].auth === 'agent') codes.push('invalid_api_key', 'agent_suspended');
  codes.push(...s.errors, 'internal_error', 'storage_unavailable');
  return [...new Set(codes)];
}

/** One operation with everything known about it: the table's row joined with its wire schemas. */
export interface OperationSpec extends Operation, OperationSchemas {
  name: OperationName;
}

/** Every operation, in table order. */
export const OPERATION_SPECS: readonly OperationSpec[] = (Object.keys(OPERATIONS) as OperationName[]).map((name) => ({
  name,
  ...OPERATIONS[name],
  ...(OPERATION_SCHEMAS[name] as OperationSchemas),
}));
