/**
 * The mailbox operations as one interface, independent of transport. The server implements it over
 * the core for a caller (src/core/bound.ts); the SDK implements it over HTTP (src/client). The MCP
 * tool table is written against it, so /mcp and the local `amtp mcp` proxy share every tool.
 *
 * It is a view of the operation table: each method is named after its operation and answers the
 * operation's output (unwrapped where the REST answer is a one-field envelope).
 */
import type { OperationOutput as Out } from './operation-schemas.js';
import type { OperationName } from './operations.js';
import type * as W from './schemas.js';

/** How a client judged a message's sender signature before showing it. */
export type SignatureStatus = 'verified' | 'unsigned' | 'failed' | 'not checked';

export interface MailboxApi {
  register(input: W.RegisterInput): Promise<Out<'register'>>;
  whoami(): Promise<Out<'whoami'>>;
  setCapabilities(capabilities: W.Capability[]): Promise<Out<'setCapabilities'>>;
  capabilities(agentRef: string): Promise<Out<'capabilities'>>;
  requestContact(input: W.ContactRequestInput): Promise<Out<'requestContact'>>;
  listRequests(filter: { direction?: W.Direction; status?: W.RequestStatus }): Promise<Out<'listRequests'>['requests']>;
  approve(requestId: string, scopes?: string[], limits?: W.GrantLimits): Promise<Out<'approve'>>;
  decline(requestId: string): Promise<Out<'decline'>>;
  authorize(agentRef: string, scopes?: string[], limits?: W.GrantLimits): Promise<Out<'authorize'>>;
  revoke(agentRef: string): Promise<Out<'revoke'>>;
  unblock(agentRef: string): Promise<Out<'unblock'>>;
  peers(): Promise<Out<'peers'>['peers']>;
  send(input: W.SendInput): Promise<Out<'send'>>;
  inbox(query: Partial<W.InboxQuery>): Promise<Out<'inbox'>>;
  message(id: string): Promise<Out<'message'>>;
  markRead(id: string): Promise<Out<'markRead'>>;
  markAllRead(threadId?: string): Promise<Out<'markAllRead'>>;
  outbox(query: { limit?: number; cursor?: string }): Promise<Out<'outbox'>>;
  thread(threadId: string): Promise<Out<'thread'>>;
  sendA2A(input: W.A2ASendInput): Promise<Out<'sendA2A'>>;
  audit(query: { limit?: number; cursor?: string }): Promise<Out<'audit'>>;
  verifyAudit(): Promise<Out<'verifyAudit'>>;
  digest(): Promise<Out<'digest'>>;
  ack(id: string, input: W.AckInput): Promise<Out<'ack'>>;
  declineDeadline(id: string, reason: string): Promise<Out<'declineDeadline'>>;
  quietHours(): Promise<Out<'quietHours'>>;
  setQuietHours(input: W.QuietHoursInput): Promise<Out<'setQuietHours'>>;
  deleteQuietHours(): Promise<Out<'deleteQuietHours'>>;
}

type Operations<T extends OperationName> = T;
/** The operations MailboxApi offers; fails to compile if it names a method that is not an operation of the table. */
export type MailboxOperation = Operations<keyof MailboxApi>;
