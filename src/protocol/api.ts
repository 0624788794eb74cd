/**
 * The mailbox operations as one interface, independent of transport. The server implements it over
 * the core for a caller (src/core/bound.ts); the SDK implements it over HTTP (src/client). The MCP
 * tool table is written against it, so /mcp and the local `amtp mcp` proxy share every tool.
 */
import type * as W from './schemas.js';

/** How a client judged a message's sender signature before showing it. */
export type SignatureStatus = 'verified' | 'unsigned' | 'failed' | 'not checked';

export interface MailboxApi {
  register(input: W.RegisterInput): Promise<W.RegisterOutput>;
  whoami(): Promise<W.Me>;
  setCapabilities(capabilities: W.Capability[]): Promise<W.CapabilitiesOutput>;
  capabilities(agentRef: string): Promise<W.CapabilitiesOutput>;
  requestContact(input: W.ContactRequestInput): Promise<W.ContactRequest>;
  listRequests(filter: { direction?: W.Direction; status?: W.RequestStatus }): Promise<W.ContactRequest[]>;
  approve(requestId: string, scopes?: string[]): Promise<W.ContactRequest>;
  decline(requestId: string): Promise<W.ContactRequest>;
  authorize(agentRef: string, scopes?: string[]): Promise<W.Peer>;
  revoke(agentRef: string): Promise<{ revoked: boolean }>;
  unblock(agentRef: string): Promise<{ unblocked: boolean }>;
  peers(): Promise<W.Peer[]>;
  send(input: W.SendInput): Promise<W.SendOutput>;
  inbox(query: Partial<W.InboxQuery>): Promise<W.InboxOutput>;
  message(id: string): Promise<W.Message>;
  markRead(id: string): Promise<W.Message>;
  markAllRead(threadId?: string): Promise<{ marked: number }>;
  outbox(query: { limit?: number; cursor?: string }): Promise<W.MessagesPage>;
  thread(threadId: string): Promise<{ thread_id: string; messages: W.Message[] }>;
  audit(query: { limit?: number; cursor?: string }): Promise<{ entries: W.AuditEntry[]; next_cursor: string | null }>;
  verifyAudit(): Promise<W.AuditVerifyOutput>;
}
