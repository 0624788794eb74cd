import type { ErrorCode } from './errors.js';

/** The SSE event name of a stream's last frame when the server ends it (a rotated API key). */
export const STREAM_CLOSED = 'stream.closed';

/** The data of that last frame. */
export interface StreamClosed {
  /** The error code the stream's key now gets: `invalid_api_key` or `agent_suspended`. */
  code: ErrorCode;
  /** Why: `api_key_rotated`, `api_key_reset`, `agent_suspended`, `agent_deleted`, `credentials_changed`. */
  reason: string;
  message: string;
}
