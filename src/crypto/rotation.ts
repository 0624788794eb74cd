/** Key rotation statements, signed by the old signing key so peers can follow continuity. */
import { canonicalBytes } from './jcs.js';
import { toBase64Url } from './encoding.js';
import { signBytes, verifyBytes, type Signer } from './sign.js';

export const ROTATION_VERSION = 'amtp-key-rotation-1';

export interface RotationFields {
  agent_id: string;
  old_public_key: string;
  new_public_key: string;
  new_encryption_key: string | null;
  rotated_at: string;
}

export const rotationStatementInput = (f: RotationFields) =>
  canonicalBytes({
    v: ROTATION_VERSION,
    agent_id: f.agent_id,
    old_public_key: f.old_public_key,
    new_public_key: f.new_public_key,
    new_encryption_key: f.new_encryption_key,
    rotated_at: f.rotated_at,
  });

export const signRotation = (f: RotationFields, oldSecretKey: string) => signBytes(rotationStatementInput(f), oldSecretKey);

/** signRotation with a Signer holding the old key (which may not be readable, as in the browser). */
export const signRotationWith = async (f: RotationFields, sign: Signer) => toBase64Url(await sign(rotationStatementInput(f)));

export const verifyRotation = (f: RotationFields, signature: string) => verifyBytes(rotationStatementInput(f), signature, f.old_public_key);
