/** Every failure leaves as `{ error: { code, message, ... } }` with a stable code; never a bare 500 page. */
import { AmtpError, toAmtpError } from '../protocol/errors.js';

/** The transport-neutral mapping (src/protocol/errors.ts) plus what only Fastify raises. */
export function toApiError(err: unknown, limits?: { maxRequestBytes: number }): AmtpError {
  const mapped = toAmtpError(err);
  if (mapped.code !== 'internal_error' || err instanceof AmtpError) return mapped;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return limits
        ? new AmtpError('too_large', `The request body is larger than this server accepts (${limits.maxRequestBytes} bytes). Send less.`, {
            limit: limits.maxRequestBytes,
          })
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
  return mapped;
}

/** The one answer for a path no endpoint serves. */
export const noEndpoint = (method: string, path: string) =>
  new AmtpError('not_found', `No endpoint ${method} ${path}. The API is described at /openapi.json.`);
