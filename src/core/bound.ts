/** The core, bound to one caller, as the transport-neutral MailboxApi (used by the MCP tools). */
import type { MailboxApi } from '../protocol/api.js';
import { InboxQuery, OutboxQuery, QuietHoursInput } from '../protocol/schemas.js';
import type { Caller } from './context.js';
import type { Mailbox } from './mailbox.js';

export function boundApi(core: Mailbox, caller: () => Promise<Caller>, source: { ip: string }): MailboxApi {
  return {
    register: (input) => core.identity.register(input, source),
    capabilities: (ref) => core.capabilities.get(ref),
    whoami: async () => core.identity.me(await caller()),
    setCapabilities: async (caps) => core.capabilities.set(await caller(), caps),
    requestContact: async (input) => (await core.consent.request(await caller(), input, source)).request,
    listRequests: async (filter) => core.consent.listRequests(await caller(), filter),
    approve: async (id, scopes, limits) => core.consent.approve(await caller(), id, scopes, limits),
    decline: async (id) => core.consent.decline(await caller(), id),
    authorize: async (ref, scopes, limits) => core.consent.authorize(await caller(), ref, scopes, limits),
    revoke: async (ref) => core.consent.revoke(await caller(), ref),
    unblock: async (ref) => core.consent.unblock(await caller(), ref),
    peers: async () => core.consent.peers(await caller()),
    // What reaches the core through /mcp is never human-originated (SPEC §17.3).
    send: async ({ origin: _ignored, ...input }) => core.messaging.send(await caller(), input),
    inbox: async (query) => core.messaging.inbox(await caller(), InboxQuery.parse(query)),
    message: async (id) => core.messaging.get(await caller(), id),
    markRead: async (id) => core.messaging.markRead(await caller(), id),
    markAllRead: async (threadId) => core.messaging.markAllRead(await caller(), threadId),
    outbox: async (q) => core.messaging.outbox(await caller(), OutboxQuery.parse(q)),
    thread: async (id) => core.messaging.thread(await caller(), id),
    sendA2A: async (input) => core.a2aOutbound.send(await caller(), input),
    audit: async (q) => core.audit.list(await caller(), { limit: q.limit ?? 50, cursor: q.cursor }),
    verifyAudit: async () => core.audit.verify(await caller()),
    digest: async () => core.attention.digest(await caller()),
    ack: async (id, input) => core.attention.ack(await caller(), id, input),
    declineDeadline: async (id, reason) => core.attention.declineDeadline(await caller(), id, reason),
    quietHours: async () => core.attention.quietHours(await caller()),
    setQuietHours: async (input) => core.attention.setQuietHours(await caller(), QuietHoursInput.parse(input)),
    deleteQuietHours: async () => core.attention.setQuietHours(await caller(), null),
  };
}
