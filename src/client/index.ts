/** The AMTP SDK: `import { AmtpClient, verifyWebhook } from 'amtp-mailbox/client'` (the package is named amtp-mailbox: see README). */
export { AmtpClient, AmtpApiError, type AmtpClientOptions } from './client.js';
export { SecureMailbox, type Identity, type PinStore, type PinnedKeys } from './secure.js';
export { verifyWebhook, signWebhook } from '../crypto/standard-webhooks.js';
export * as crypto from '../crypto/index.js';
export type { MailboxApi } from '../protocol/api.js';
export type * from '../protocol/schemas.js';
