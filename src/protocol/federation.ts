/** The server-to-server wire types (SPEC §19): what `/federation/v1/resolve` and `/federation/v1/inbox` carry. */
import { z } from 'zod';
import { KeyRotation, MessageId, PublicKey, Scopes } from './schemas.js';

const FullAddress = z.string().min(5).max(300);

export const RemoteProfile = z.object({
  address: FullAddress,
  display_name: z.string().min(1).max(100).nullable(),
  public_key: PublicKey.nullable(),
  encryption_key: PublicKey.nullable(),
  /** The last key change, signed by the previous signing key (as in the agent's profile, SPEC §12.1). */
  key_rotation: KeyRotation.nullable().optional(),
});

export const ResolveInput = z.object({ address: FullAddress, for: FullAddress });

export const EnvelopeType = z.enum([
  'contact_request',
  'contact_request.approved',
  'authorization.revoked',
  'message',
  'message.delivered',
  'message.read',
]);

export const Envelope = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(100),
  type: EnvelopeType,
  from: FullAddress,
  to: FullAddress,
  profile: RemoteProfile.optional(),
  note: z.string().max(1000).nullable().optional(),
  scopes: Scopes.optional(),
  /** A message's fields as SendInput (validated there) plus its id and created_at. */
  message: z.record(z.string(), z.unknown()).optional(),
  message_id: MessageId.optional(),
  read_at: z.string().max(40).optional(),
  delivered_at: z.string().max(40).optional(),
});

export type RemoteProfile = z.infer<typeof RemoteProfile>;
export type Envelope = z.infer<typeof Envelope>;
