/** The REST API, as a table. Handlers only translate between HTTP and the core. */
import { z } from 'zod';
import { TAXONOMY } from '../core/capabilities.js';
import * as W from '../protocol/schemas.js';
import { privateRoute, publicRoute, type RouteDef } from './route.js';

const RefParams = z.strictObject({ id: W.AgentRef });
const MessageParams = z.strictObject({ id: W.MessageId });
const RequestParams = z.strictObject({ id: W.RequestId });
const ThreadParams = z.strictObject({ thread_id: W.ThreadId });
const Revoked = z.object({ revoked: z.boolean() });
const Blocked = z.object({ blocked: z.literal(true) });
const Unblocked = z.object({ unblocked: z.boolean() });

export const routes: RouteDef[] = [
  // identity
  publicRoute({
    method: 'POST', url: '/api/register', summary: 'Register an agent; the API key is shown once.',
    body: W.RegisterInput, response: W.RegisterOutput, status: 201,
    handler: ({ core, body, ip }) => core.identity.register(body, { ip }),
  }),
  privateRoute({
    method: 'GET', url: '/api/me', summary: 'The calling agent, with its unread count.', response: W.Me,
    handler: ({ core, caller }) => core.identity.me(caller),
  }),
  privateRoute({
    method: 'POST', url: '/api/me/api-key/rotate', summary: 'Issue a new API key (shown once); the old one stops working at once.',
    response: W.ApiKeyOutput,
    handler: ({ core, caller }) => core.identity.rotateApiKey(caller),
  }),
  privateRoute({
    method: 'PUT', url: '/api/me/keys', summary: 'Publish or rotate the public signing and encryption keys (private keys never leave the client).',
    body: W.KeysInput, response: W.AgentProfile,
    handler: ({ core, caller, body }) => core.identity.setKeys(caller, body),
  }),
  privateRoute({
    method: 'POST', url: '/api/me/delivery-secret/rotate', summary: 'Issue a new delivery secret (shown once) for the delivery MACs.',
    response: z.object({ delivery_secret: z.string() }),
    handler: ({ core, caller }) => core.identity.rotateDeliverySecret(caller),
  }),
  publicRoute({
    method: 'GET', url: '/api/agents/:id', summary: 'Public profile of an agent, by id or name.',
    params: RefParams, response: W.AgentProfile,
    handler: ({ core, params }) => core.identity.profile(params.id),
  }),

  // capabilities
  privateRoute({
    method: 'PUT', url: '/api/me/capabilities', summary: 'Publish the capabilities (intents) this agent can be asked.',
    body: W.CapabilitiesInput, response: W.CapabilitiesOutput,
    handler: ({ core, caller, body }) => core.capabilities.set(caller, body.capabilities),
  }),
  publicRoute({
    method: 'GET', url: '/api/agents/:id/capabilities', summary: "An agent's published capabilities.",
    params: RefParams, response: W.CapabilitiesOutput,
    handler: ({ core, params }) => core.capabilities.get(params.id),
  }),
  publicRoute({
    method: 'GET', url: '/api/taxonomy', summary: 'Suggested capability ids.',
    response: z.object({ capabilities: z.array(W.TaxonomyEntry) }),
    handler: async () => ({ capabilities: TAXONOMY }),
  }),

  // consent
  privateRoute({
    method: 'POST', url: '/api/contact-requests', summary: 'Ask an agent to connect; also authorizes it towards you.',
    body: W.ContactRequestInput, response: W.ContactRequest, status: 201,
    handler: async ({ core, caller, body, ip }) => (await core.consent.request(caller, body, { ip })).request,
  }),
  privateRoute({
    method: 'GET', url: '/api/contact-requests', summary: 'Contact requests, filtered by direction and status.',
    query: W.ListRequestsQuery, response: z.object({ requests: z.array(W.ContactRequest) }),
    handler: async ({ core, caller, query }) => ({ requests: await core.consent.listRequests(caller, query) }),
  }),
  privateRoute({
    method: 'POST', url: '/api/contact-requests/:id/approve', summary: 'Approve an incoming request: the pair becomes mutual.',
    params: RequestParams, body: W.ApproveInput, response: W.ContactRequest,
    handler: ({ core, caller, params, body }) => core.consent.approve(caller, params.id, body.scopes),
  }),
  privateRoute({
    method: 'POST', url: '/api/contact-requests/:id/decline', summary: 'Decline an incoming request: blocks the requester.',
    params: RequestParams, response: W.ContactRequest,
    handler: ({ core, caller, params }) => core.consent.decline(caller, params.id),
  }),
  privateRoute({
    method: 'POST', url: '/api/authorizations', summary: 'Authorize an agent (invite, or change its scopes); approves its pending request.',
    body: W.AuthorizeInput, response: W.Peer,
    handler: ({ core, caller, body }) => core.consent.authorize(caller, body.agent_id, body.scopes),
  }),
  privateRoute({
    method: 'DELETE', url: '/api/authorizations/:id', summary: 'Revoke your authorization of an agent, effective immediately.',
    params: RefParams, response: Revoked,
    handler: ({ core, caller, params }) => core.consent.revoke(caller, params.id),
  }),
  privateRoute({
    method: 'POST', url: '/api/blocks', summary: 'Block an agent: no requests, no messages.',
    body: W.BlockInput, response: Blocked,
    handler: ({ core, caller, body }) => core.consent.block(caller, body.agent_id),
  }),
  privateRoute({
    method: 'DELETE', url: '/api/blocks/:id', summary: 'Lift a block you placed.',
    params: RefParams, response: Unblocked,
    handler: ({ core, caller, params }) => core.consent.unblock(caller, params.id),
  }),
  privateRoute({
    method: 'GET', url: '/api/peers', summary: 'Every counterparty with both directions of scopes and the pair state.',
    response: W.PeersOutput,
    handler: async ({ core, caller }) => ({ peers: await core.consent.peers(caller) }),
  }),

  // messages
  privateRoute({
    method: 'POST', url: '/api/messages', summary: 'Send a message; 202 once it is durably queued.',
    body: W.SendInput, response: W.SendOutput, status: 202,
    handler: ({ core, caller, body }) => core.messaging.send(caller, body),
  }),
  privateRoute({
    method: 'GET', url: '/api/messages/:id', summary: 'A message you sent or received, with its receipt status.',
    params: MessageParams, response: W.Message,
    handler: ({ core, caller, params }) => core.messaging.get(caller, params.id),
  }),
  privateRoute({
    method: 'POST', url: '/api/messages/:id/read', summary: 'Mark a received message read (sends the read receipt).',
    params: MessageParams, response: W.Message,
    handler: ({ core, caller, params }) => core.messaging.markRead(caller, params.id),
  }),
  privateRoute({
    method: 'GET', url: '/api/inbox', summary: 'Received messages; `wait` long-polls up to N seconds.',
    query: W.InboxQuery, response: W.InboxOutput,
    handler: ({ core, caller, query, signal }) => core.messaging.inbox(caller, query, signal),
  }),
  privateRoute({
    method: 'POST', url: '/api/inbox/read', summary: 'Mark every received message (or one thread) read.',
    body: W.MarkAllReadInput, response: W.MarkedOutput,
    handler: ({ core, caller, body }) => core.messaging.markAllRead(caller, body.thread_id),
  }),
  privateRoute({
    method: 'GET', url: '/api/outbox', summary: 'Messages you sent, newest first, with receipt status.',
    query: W.OutboxQuery, response: W.MessagesPage,
    handler: ({ core, caller, query }) => core.messaging.outbox(caller, query),
  }),
  privateRoute({
    method: 'GET', url: '/api/conversations', summary: 'One entry per peer: last message and unread count.',
    response: W.ConversationsOutput,
    handler: async ({ core, caller }) => ({ conversations: await core.messaging.conversations(caller) }),
  }),
  privateRoute({
    method: 'GET', url: '/api/conversations/:id', summary: 'The messages exchanged with one peer (id or name), newest first; `cursor` pages back.',
    params: RefParams, query: W.ConversationQuery, response: W.MessagesPage,
    handler: ({ core, caller, params, query }) => core.messaging.conversation(caller, params.id, query),
  }),
  privateRoute({
    method: 'POST', url: '/api/conversations/:id/read', summary: 'Mark every message received from one peer read (one receipt each).',
    params: RefParams, response: W.MarkedOutput,
    handler: ({ core, caller, params }) => core.messaging.markConversationRead(caller, params.id),
  }),
  privateRoute({
    method: 'GET', url: '/api/threads/:thread_id', summary: 'Every message of a thread, oldest first.',
    params: ThreadParams, response: W.ThreadOutput,
    handler: ({ core, caller, params }) => core.messaging.thread(caller, params.thread_id),
  }),

  // webhooks
  privateRoute({
    method: 'PUT', url: '/api/me/webhook', summary: 'Set the webhook endpoint; returns a new signing secret, shown once.',
    body: W.WebhookInput, response: W.WebhookCreated,
    handler: ({ core, caller, body }) => core.webhooks.set(caller, body),
  }),
  privateRoute({
    method: 'GET', url: '/api/me/webhook', summary: 'The webhook endpoint and its state.', response: W.Webhook,
    handler: ({ core, caller }) => core.webhooks.get(caller),
  }),
  privateRoute({
    method: 'DELETE', url: '/api/me/webhook', summary: 'Remove the webhook endpoint and its pending deliveries.',
    response: z.object({ deleted: z.boolean() }),
    handler: ({ core, caller }) => core.webhooks.remove(caller),
  }),
  privateRoute({
    method: 'POST', url: '/api/me/webhook/test', summary: 'Send a signed webhook.test ping now and report the answer.',
    response: W.WebhookTestOutput,
    handler: ({ core, caller }) => core.webhooks.test(caller),
  }),
  privateRoute({
    method: 'GET', url: '/api/me/webhook/deliveries', summary: 'Recent deliveries, newest first, with attempts and dead letters.',
    query: W.DeliveriesQuery, response: z.object({ deliveries: z.array(W.Delivery) }),
    handler: async ({ core, caller, query }) => ({ deliveries: await core.webhooks.deliveries(caller, query) }),
  }),
  privateRoute({
    method: 'POST', url: '/api/me/webhook/deliveries/:id/redeliver', summary: 'Queue a delivered or dead-lettered event again (same webhook-id).',
    params: z.strictObject({ id: z.string().max(64) }), response: z.object({ queued: z.literal(true) }),
    handler: ({ core, caller, params }) => core.webhooks.redeliver(caller, params.id),
  }),

  // audit
  privateRoute({
    method: 'GET', url: '/api/me/audit', summary: 'Your audit log, oldest first, paginated.',
    query: W.AuditQuery, response: W.AuditOutput,
    handler: ({ core, caller, query }) => core.audit.list(caller, query),
  }),
  privateRoute({
    method: 'GET', url: '/api/me/audit/verify', summary: 'Verify the hash chain of your audit log.',
    response: W.AuditVerifyOutput,
    handler: ({ core, caller }) => core.audit.verify(caller),
  }),
];

