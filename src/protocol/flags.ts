/**
 * The triage digest's flags: what needs the human, most urgent first — the order is the digest's
 * ranking (SPEC "Triage digest"). Zod-free, so the SDK and the web bundle can use it. Other features
 * add their flags here, at the rank they deserve (e.g. issue 19's loop breaker).
 */
export const DIGEST_FLAGS = [
  'loop_detected',
  'deadline_missed',
  'deadline_today',
  'signature_failed',
  'keys_changed',
  'contact_request',
] as const;
