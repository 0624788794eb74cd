/**
 * Processed receipts (issue 18): the recipient signs its acknowledgement with the same ed25519 key as
 * its messages. The signed bytes are the JCS form of a fixed set of fields, every absent one as null,
 * under their own version string, so a receipt's signature can never pass for a message's (SPEC §12).
 */
import { toBase64Url } from './encoding.js';
import { canonicalBytes } from './jcs.js';
import { signBytes, verifyBytes, type Signer } from './sign.js';

export const RECEIPT_SIGNATURE_VERSION = 'amtp-processed-1';

export interface ReceiptFields {
  message_id: string;
  /** The message's sender (who receives the receipt) and recipient (who signs it). */
  sender_id: string;
  recipient_id: string;
  outcome: 'done' | 'failed' | 'declined';
  note?: string | null;
  signed_at: string;
}

/** The receipt fields for acknowledging `message` with `ack`, signed at `signed_at`. */
export function receiptFields(
  message: { id: string; sender_id: string; recipient_id: string },
  ack: { outcome: ReceiptFields['outcome']; note?: string | null },
  signed_at: string,
): ReceiptFields {
  return {
    message_id: message.id,
    sender_id: message.sender_id,
    recipient_id: message.recipient_id,
    outcome: ack.outcome,
    note: ack.note ?? null,
    signed_at,
  };
}

export function receiptSigningInput(f: ReceiptFields): Uint8Array {
  return canonicalBytes({
    v: RECEIPT_SIGNATURE_VERSION,
    message_id: f.message_id,
    sender_id: f.sender_id,
    recipient_id: f.recipient_id,
    outcome: f.outcome,
    note: f.note ?? null,
    signed_at: f.signed_at,
  });
}

export function signReceipt(fields: ReceiptFields, secretKey: string): string {
  return signBytes(receiptSigningInput(fields), secretKey);
}

export async function signReceiptWith(fields: ReceiptFields, sign: Signer): Promise<string> {
  return toBase64Url(await sign(receiptSigningInput(fields)));
}

/** Never throws: malformed keys, signatures or fields simply do not verify. */
export function verifyReceipt(fields: ReceiptFields, signature: string, publicKey: string): boolean {
  try {
    return verifyBytes(receiptSigningInput(fields), signature, publicKey);
  } catch {
    return false;
  }
}
