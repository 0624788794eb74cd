/** Rows as both backends return them → the records of src/store/types.ts. */
import type {
  AgentRecord,
  AuditRecord,
  CapabilitiesRecord,
  EventRecord,
  GrantRecord,
  MessageRecord,
  RequestRecord,
  ServerAuditRecord,
  WebhookRecord,
} from './types.js';
import type { Dialect } from './dialect.js';

export type Row = Record<string, unknown>;

export interface Decoders {
  agent: (r: Row) => AgentRecord;
  grant: (r: Row) => GrantRecord;
  request: (r: Row) => RequestRecord;
  message: (r: Row) => MessageRecord;
  event: (r: Row) => EventRecord;
  audit: (r: Row) => AuditRecord;
  serverAudit: (r: Row) => ServerAuditRecord;
  capabilities: (r: Row) => CapabilitiesRecord;
  webhook: (r: Row) => WebhookRecord;
}

/** JSON kept in a TEXT column on both backends (migration 8). */
const text = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : null);

export function decoders(d: Dialect): Decoders {
  const j = d.fromJson;
  return {
    agent: (r) => ({
      ...(r as unknown as AgentRecord),
      key_rotation: j(r.key_rotation) as AgentRecord['key_rotation'],
      quiet_hours: text(r.quiet_hours) as AgentRecord['quiet_hours'],
    }),
    grant: (r) => ({ ...(r as unknown as GrantRecord), scopes: j(r.scopes) as string[] }),
    request: (r) => ({ ...(r as unknown as RequestRecord), scopes: j(r.scopes) as string[] }),
    // `origin` is present only when set (SPEC §17.3), as on the wire.
    message: ({ origin, ...r }) => ({
      ...(r as unknown as MessageRecord),
      ...(origin ? { origin: origin as MessageRecord['origin'] } : {}),
      payload: j(r.payload),
      sealed: j(r.sealed) as MessageRecord['sealed'],
      sealed_for_sender: j(r.sealed_for_sender) as MessageRecord['sealed_for_sender'],
      processed: text(r.processed) as MessageRecord['processed'],
    }),
    event: (r) => ({ ...(r as unknown as EventRecord), data: j(r.data) as EventRecord['data'] }),
    audit: (r) => ({ ...(r as unknown as AuditRecord), details: j(r.details) as AuditRecord['details'] }),
    serverAudit: (r) => ({ ...(r as unknown as ServerAuditRecord), details: j(r.details) as ServerAuditRecord['details'] }),
    capabilities: (r) => ({
      ...(r as unknown as CapabilitiesRecord),
      capabilities: j(r.capabilities) as CapabilitiesRecord['capabilities'],
    }),
    webhook: (r) => ({ ...(r as unknown as WebhookRecord), events: j(r.events) as string[], enabled: d.fromBool(r.enabled) }),
  };
}
