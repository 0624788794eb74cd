/**
 * Every error the API can return. The code is the stable machine contract; the status is its HTTP
 * mapping (MCP tool errors carry the same code). Messages are written for humans: say what to do next.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  signature_required: 400,
  invalid_signature: 400,
  stale_signature: 400,
  invalid_api_key: 401,
  not_authorized: 403,
  scope_not_granted: 403,
  registration_closed: 403,
  invalid_invite: 403,
  forbidden: 403,
  agent_not_found: 404,
  message_not_found: 404,
  thread_not_found: 404,
  request_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  name_taken: 409,
  already_connected: 409,
  request_not_pending: 409,
  replayed_nonce: 409,
  too_large: 413,
  unsupported_media_type: 415,
  invalid_payload: 422,
  unknown_intent: 422,
  invalid_schema: 422,
  invalid_reply_to: 422,
  rate_limited: 429,
  too_many_pending_requests: 429,
  internal_error: 500,
  storage_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

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
    this.status = ERROR_STATUS[code];
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
