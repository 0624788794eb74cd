/**
 * Every error the API can return. The code is the stable machine contract; the status is its HTTP
 * mapping (MCP tool errors carry the same code). Messages are written for humans: say what to do next.
 */
export const ERRORS = {
  invalid_request: [400, 'A field is missing, malformed or out of range; `issues` lists each problem.'],
  invalid_json: [400, 'The body is not valid JSON, or uses a forbidden key such as `__proto__`.'],
  signature_required: [400, 'The sender publishes a signing key, so the message must carry a signature.'],
  invalid_signature: [400, 'The signature does not verify against the sender’s signing key.'],
  stale_signature: [400, 'The signature’s time is outside the accepted window.'],
  invalid_api_key: [401, 'Missing, malformed, unknown or rotated-away API key.'],
  not_authorized: [
    403,
    'The pair is not mutually authorized (or the recipient is unknown, or blocked you: deliberately indistinguishable).',
  ],
  scope_not_granted: [403, 'The pair is mutual but the recipient has not granted this scope; `granted_scopes` lists what is.'],
  registration_closed: [403, 'The server does not accept registrations.'],
  invalid_invite: [403, 'Invite-only registration, and the invite is missing, unknown, used, revoked or expired.'],
  agent_suspended: [403, 'The API key is valid but the server operator suspended this agent; only the operator can lift it.'],
  grant_lapsed: [
    403,
    'The recipient granted this scope with a limit (a count or an expiry) and it ran out; they can renew it like any grant.',
  ],
  agent_not_found: [404, 'No reachable agent with that id or name (an agent that blocked you looks the same).'],
  message_not_found: [404, 'No message with that id among yours.'],
  thread_not_found: [404, 'No thread with that id among yours.'],
  request_not_found: [404, 'No incoming contact request with that id.'],
  webhook_not_found: [404, 'No webhook is configured, or no delivery with that id.'],
  held_not_found: [404, 'No message held for approval with that id among yours.'],
  not_found: [404, 'No such endpoint, or not with this method (the REST API has no 405).'],
  name_taken: [409, 'Another agent has that name.'],
  already_connected: [409, 'The pair already authorizes each other.'],
  request_not_pending: [409, 'The contact request was already approved or declined.'],
  loop_detected: [
    409,
    'The loop breaker stopped this thread: too many automatic messages without a human in between; a human must clear it.',
  ],
  replayed_nonce: [409, 'The signature nonce was already used by this sender.'],
  already_processed: [409, 'The message was already acknowledged as processed; a receipt is final.'],
  no_pending_deadline: [409, 'The message has no pending reply-by deadline (none was set, or it was already met, missed or declined).'],
  too_large: [413, 'The message or request body exceeds the limit; `limit` gives it in bytes when known.'],
  unsupported_media_type: [415, 'Bodies must be JSON (`Content-Type: application/json`).'],
  invalid_payload: [422, 'The payload does not match the intent’s JSON Schema; `errors` lists each mismatch.'],
  unknown_intent: [422, 'The recipient does not publish that intent; `published` lists the ones it does.'],
  invalid_schema: [422, 'A capability’s `input_schema` is not a valid JSON Schema (or is too large).'],
  invalid_webhook_url: [
    422,
    'The webhook URL is refused: `reason` says why (scheme, credentials, port, or an address that is not public).',
  ],
  invalid_agent_card_url: [422, 'The A2A AgentCard URL is refused by the same rules as webhook URLs: `reason` says why.'],
  secret_blocked: [422, "The message carries the sender's own API key or delivery secret; it never leaves, whatever the policy."],
  invalid_reply_to: [422, '`reply_to_id` does not name a message between you and this recipient.'],
  rate_limited: [429, 'Too many requests; retry after `Retry-After` seconds, also given as `retry_after` in the body.'],
  budget_exceeded: [429, "Over the recipient's budget for this pair (per hour or per day); retry after `Retry-After` seconds."],
  too_many_pending_requests: [429, 'Too many of your contact requests are still pending.'],
  federation_unauthenticated: [
    401,
    'A federation request whose RFC 9421 signature is missing, malformed, or does not verify against a key the origin domain publishes (SPEC §19.4).',
  ],
  federation_stale: [
    401,
    'A federation request signed outside the accepted window (`created` more than 5 minutes old or in the future, or `expires` passed).',
  ],
  federation_replayed: [401, 'A federation request whose signature nonce this server has already seen from that origin.'],
  federation_digest_mismatch: [400, 'A federation request whose body does not match its Content-Digest.'],
  federation_origin_mismatch: [403, 'A federation request naming a sender address outside its origin domain.'],
  federation_refused: [
    403,
    'This server does not federate with that domain (AMTP_FEDERATION off, not allowlisted, or blocklisted), or the remote server refused.',
  ],
  federation_unavailable: [502, 'The remote server could not be reached or answered unexpectedly; retry later.'],
  internal_error: [500, 'A bug. It is logged; retry, and report it if it persists.'],
  storage_unavailable: [503, 'The store is unavailable (disk full, database down); nothing was changed; retry after `Retry-After`.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

export class AmtpError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Seconds, sent as Retry-After on 429/503. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'AmtpError';
    this.status = ERRORS[code][0];
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ?? {}) } };
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; [extra: string]: unknown };
}

/** The one answer for "you may not message/contact this agent", whatever the reason (no enumeration). */
export const notAuthorized = () =>
  new AmtpError(
    'not_authorized',
    'You are not authorized to message this agent. Both sides must authorize each other first: send a contact request and wait for approval.',
  );

export const agentNotFound = () =>
  new AmtpError('agent_not_found', 'No agent with that id or name is reachable. Check the id, or ask its owner for their handle.');

export const storageUnavailable = () =>
  new AmtpError('storage_unavailable', 'The mailbox store is temporarily unavailable. Retry shortly; nothing was changed.', undefined, 2);

/**
 * Any failure as an API error, whatever the transport: an AmtpError as is; an error relayed from a
 * remote AMTP server (the SDK's AmtpApiError) with its code and sentence; the store's "unavailable";
 * anything else is a bug, reported as `internal_error` without its details. Matched by name, so this
 * module needs neither the SDK nor the store.
 */
export function toAmtpError(err: unknown): AmtpError {
  if (err instanceof AmtpError) return err;
  const e = err as { name?: string; code?: string; kind?: string; message?: string } | null;
  if (e?.name === 'AmtpApiError' && e.code && e.code in ERRORS) return new AmtpError(e.code as ErrorCode, e.message ?? e.code);
  if (e?.name === 'StoreError' && e.kind === 'unavailable') return storageUnavailable();
  return new AmtpError('internal_error', 'Something went wrong on the server. It has been logged; retry, and report it if it persists.');
}
