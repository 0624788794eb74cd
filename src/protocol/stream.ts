/** The SSE event name of a stream's last frame when the server ends it (a rotated API key). */
export const STREAM_CLOSED = 'stream.closed';

/** The data of that last frame. */
export interface StreamClosed {
  /** An error code (`invalid_api_key`). */
  code: 'invalid_api_key';
  /** Why: `api_key_rotated`. */
  reason: string;
  message: string;
}
