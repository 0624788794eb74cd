/** Every failure leaves as `{ error: { code, message, ... } }` with a stable code; never a bare 500 page. */
import { AmtpError, ERRORS, type ErrorCode } from '../protocol/errors.js';
import { StoreError } from '../store/types.js';

export function toApiError(err: unknown, limits?: { maxRequestBytes: number }): AmtpError {
  if (err instanceof AmtpError) return err;
  // An error relayed from a remote AMTP server (the SDK's AmtpApiError) keeps its code and sentence.
  const relayed = err as { name?: string; code?: string; message?: string };
  if (relayed?.name === 'AmtpApiError' && relayed.code && relayed.code in ERRORS) {
    return new AmtpError(relayed.code as ErrorCode, relayed.message ?? relayed.code);
  }
  if (err instanceof StoreError && err.kind === 'unavailable') {
    return new AmtpError('storage_unavailable', 'The mailbox store is temporarily unavailable. Retry shortly; nothing was changed.', undefined, 2);
  }
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return limits
        ? new AmtpError('too_large', `The request body is larger than this server accepts (${limits.maxRequestBytes} bytes). Send less.`, { limit: limits.maxRequestBytes })
        : new AmtpError('too_large', 'The request body is larger than this server accepts. Send less.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AmtpError('unsupported_media_type', 'Send the body as JSON with "Content-Type: application/json".');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AmtpError('invalid_json', 'The body is not valid JSON. Check quotes, commas and brackets.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AmtpError('invalid_request', 'The Content-Length header does not match the body.');
  }
  if (err instanceof SyntaxError || (e.statusCode === 400 && /JSON|Unexpected|proto/i.test(e.message ?? ''))) {
    return new AmtpError('invalid_json', 'The body is not valid JSON (or uses a forbidden key such as "__proto__").');
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new AmtpError('invalid_request', e.message ?? 'The request is malformed.');
  }
  return new AmtpError('internal_error', 'Something went wrong on the server. It has been logged; retry, and report it if it persists.');
}
