/** The REST API: one handler per operation of the table. Handlers only translate between HTTP and the core. */
import { TAXONOMY } from '../core/capabilities.js';
import { routesOf } from './route.js';

export const routes = routesOf({
  // identity
  register: ({ core, body, ip }) => core.identity.register(body, { ip }),
  whoami: ({ core, caller }) => core.identity.me(caller),
  rotateApiKey: ({ core, caller }) => core.identity.rotateApiKey(caller),
  setKeys: ({ core, caller, body }) => core.identity.setKeys(caller, body),
  rotateDeliverySecret: ({ core, caller }) => core.identity.rotateDeliverySecret(caller),
  profile: ({ core, params }) => core.identity.profile(params.id),

  // capabilities
  setCapabilities: ({ core, caller, body }) => core.capabilities.set(caller, body.capabilities),
  capabilities: ({ core, params }) => core.capabilities.get(params.id),
  taxonomy: async () => ({ capabilities: [...TAXONOMY] }),

  // consent
  requestContact: async ({ core, caller, body, ip }) => (await core.consent.request(caller, body, { ip })).request,
  listRequests: async ({ core, caller, query }) => ({ requests: await core.consent.listRequests(caller, query) }),
  approve: ({ core, caller, params, body }) => core.consent.approve(caller, params.id, body.scopes, body.limits),
  decline: ({ core, caller, params }) => core.consent.decline(caller, params.id),
  authorize: ({ core, caller, body }) => core.consent.authorize(caller, body.agent_id, body.scopes, body.limits),
  revoke: ({ core, caller, params }) => core.consent.revoke(caller, params.id),
  block: ({ core, caller, body }) => core.consent.block(caller, body.agent_id),
  unblock: ({ core, caller, params }) => core.consent.unblock(caller, params.id),
  peers: async ({ core, caller }) => ({ peers: await core.consent.peers(caller) }),

  // messages
  send: ({ core, caller, body }) => core.messaging.send(caller, body),
  message: ({ core, caller, params }) => core.messaging.get(caller, params.id),
  markRead: ({ core, caller, params }) => core.messaging.markRead(caller, params.id),
  inbox: ({ core, caller, query, signal }) => core.messaging.inbox(caller, query, signal),
  markAllRead: ({ core, caller, body }) => core.messaging.markAllRead(caller, body.thread_id),
  outbox: ({ core, caller, query }) => core.messaging.outbox(caller, query),
  conversations: async ({ core, caller }) => ({ conversations: await core.messaging.conversations(caller) }),
  conversation: ({ core, caller, params, query }) => core.messaging.conversation(caller, params.id, query),
  markConversationRead: ({ core, caller, params }) => core.messaging.markConversationRead(caller, params.id),
  thread: ({ core, caller, params }) => core.messaging.thread(caller, params.thread_id),
  sendA2A: ({ core, caller, body }) => core.a2aOutbound.send(caller, body),

  // webhooks
  setWebhook: ({ core, caller, body }) => core.webhooks.set(caller, body),
  webhook: ({ core, caller }) => core.webhooks.get(caller),
  deleteWebhook: ({ core, caller }) => core.webhooks.remove(caller),
  testWebhook: ({ core, caller }) => core.webhooks.test(caller),
  webhookDeliveries: async ({ core, caller, query }) => ({ deliveries: await core.webhooks.deliveries(caller, query) }),
  redeliver: ({ core, caller, params }) => core.webhooks.redeliver(caller, params.id),

  // audit
  audit: ({ core, caller, query }) => core.audit.list(caller, query),
  verifyAudit: ({ core, caller }) => core.audit.verify(caller),

  // guard rails
  guard: ({ core, caller }) => core.guard.settings(caller),
  setGuard: ({ core, caller, body }) => core.guard.setSettings(caller, body),
  setBudget: ({ core, caller, params, body }) => core.guard.setBudget(caller, params.id, body),
  clearLoop: ({ core, caller, params }) => core.guard.clearLoop(caller, params.thread_id),
  held: async ({ core, caller }) => ({ held: await core.guard.heldList(caller) }),
  approveHeld: ({ core, caller, params }) => core.messaging.approveHeld(caller, params.id),
  discardHeld: ({ core, caller, params }) => core.guard.discard(caller, params.id),
  // attention (issue 18)
  digest: ({ core, caller }) => core.attention.digest(caller),
  ack: ({ core, caller, params, body }) => core.attention.ack(caller, params.id, body),
  declineDeadline: ({ core, caller, params, body }) => core.attention.declineDeadline(caller, params.id, body.reason),
  quietHours: ({ core, caller }) => core.attention.quietHours(caller),
  setQuietHours: ({ core, caller, body }) => core.attention.setQuietHours(caller, body),
  deleteQuietHours: ({ core, caller }) => core.attention.setQuietHours(caller, null),
});
