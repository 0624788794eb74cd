/**
 * Passphrase-encrypted exports (`amtp export --encrypt`), built only from node:crypto primitives:
 * scrypt derives a 256-bit key from the passphrase and a random salt; AES-256-GCM encrypts the whole
 * plain export as one message under a random 96-bit IV.
 *
 * File layout (documented in docs/SELF-HOSTING.md):
 *   line 1   JSON header, ending in "\n": {"format":"amtp-export-encrypted","version":1,
 *            "kdf":{"name":"scrypt","N":131072,"r":8,"p":1,"salt":<base64url, 16 bytes>},
 *            "cipher":{"name":"aes-256-gcm","iv":<base64url, 12 bytes>}}
 *            — the exact header bytes, newline included, are GCM's additional authenticated data;
 *   then     the ciphertext of the plain export (the same JSON lines `amtp export` writes);
 *   last     the 16-byte GCM authentication tag.
 *
 * Reading checks the tag over the whole file before a single decrypted line is used, so a wrong
 * passphrase or an altered or truncated file is refused before anything is imported.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { promisify } from 'node:util';

export const ENCRYPTED_FORMAT = 'amtp-export-encrypted';
const VERSION = 1;
const TAG_BYTES = 16;
/** scrypt cost: 2^17 × r=8 uses 128 MiB and a fraction of a second, per OWASP's current guidance. */
const KDF = { name: 'scrypt', N: 2 ** 17, r: 8, p: 1 } as const;
export const MIN_PASSPHRASE_LENGTH = 12;

interface Header {
  format: typeof ENCRYPTED_FORMAT;
  version: number;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { name: 'aes-256-gcm'; iv: string };
}

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

function deriveKey(passphrase: string, kdf: Header['kdf']): Promise<Buffer> {
  return scryptAsync(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64url'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r,
  });
}

export class ExportDecryptionError extends Error {}

/**
 * Prepares an encrypted export (checks the passphrase, derives the key) before any file exists.
 * `start(out)` writes the header and returns the stream to write the plain export into;
 * `finish(out)` appends the tag once everything is written.
 */
export async function exportEncryptor(
  passphrase: string,
): Promise<{ start(out: Writable): Writable; finish(out: Writable): Promise<void> }> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new Error(`the passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters (several random words make a good one)`);
  }
  const kdf = { ...KDF, salt: randomBytes(16).toString('base64url') };
  const header: Header = {
    format: ENCRYPTED_FORMAT,
    version: VERSION,
    kdf,
    cipher: { name: 'aes-256-gcm', iv: randomBytes(12).toString('base64url') },
  };
  const headerBytes = Buffer.from(`${JSON.stringify(header)}\n`);
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(passphrase, kdf), Buffer.from(header.cipher.iv, 'base64url'));
  cipher.setAAD(headerBytes);
  return {
    start(out) {
      out.write(headerBytes);
      cipher.pipe(out, { end: false });
      return cipher;
    },
    async finish(out) {
      cipher.end();
      await once(cipher, 'end');
      out.write(cipher.getAuthTag());
    },
  };
}

/** The header of an encrypted export, or null for a plain one. */
async function readHeader(file: string): Promise<{ header: Header; length: number } | null> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead);
    if (!head.subarray(0, 64).toString('latin1').includes(`"${ENCRYPTED_FORMAT}"`)) return null;
    const end = head.indexOf(0x0a);
    if (end < 0) throw new ExportDecryptionError(`${file}: the header of the encrypted export is malformed`);
    const header = JSON.parse(head.subarray(0, end).toString('utf8')) as Header;
    if (header.version !== VERSION || header.kdf?.name !== 'scrypt' || header.cipher?.name !== 'aes-256-gcm') {
      throw new ExportDecryptionError(`${file}: encrypted export version ${header.version} is not supported by this build`);
    }
    return { header, length: end + 1 };
  } finally {
    await handle.close();
  }
}

export async function isEncryptedExport(file: string): Promise<boolean> {
  return (await readHeader(file)) !== null;
}

/** Decrypted bytes of an encrypted export; throws at the end when the tag does not check out. */
async function* decrypt(file: string, header: Header, headerLength: number, key: Buffer): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  const headerBytes = Buffer.alloc(headerLength);
  await handle.read(headerBytes, 0, headerLength, 0);
  await handle.close();
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.cipher.iv, 'base64url'));
  decipher.setAAD(headerBytes);
  let tail = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { start: headerLength }) as AsyncIterable<Buffer>) {
    const data = tail.length ? Buffer.concat([tail, chunk]) : chunk;
    const cut = Math.max(0, data.length - TAG_BYTES);
    tail = Buffer.from(data.subarray(cut));
    if (cut > 0) yield decipher.update(data.subarray(0, cut));
  }
  if (tail.length !== TAG_BYTES) throw new ExportDecryptionError(`${file} is truncated: the encrypted export has no authentication tag`);
  decipher.setAuthTag(tail);
  try {
    yield decipher.final();
  } catch {
    throw new ExportDecryptionError(`${file} could not be decrypted: wrong passphrase, or the file was altered or truncated`);
  }
}

/** Splits bytes into UTF-8 lines (without their "\n"). */
async function* lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.write(chunk);
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
  pending += decoder.end();
  if (pending) yield pending;
}

/**
 * The lines of an export file, plain or encrypted. An encrypted file is authenticated in full first
 * (a wrong passphrase fails here, before any line is returned), then decrypted again while read.
 */
export async function readExportLines(file: string, passphrase: string | undefined): Promise<AsyncGenerator<string>> {
  const found = await readHeader(file);
  if (!found) return lines(createReadStream(file) as AsyncIterable<Buffer>);
  if (passphrase === undefined) {
    throw new ExportDecryptionError(`${file} is an encrypted export: give its passphrase (AMTP_EXPORT_PASSPHRASE or --passphrase-file)`);
  }
  const key = await deriveKey(passphrase, found.header.kdf);
  for await (const _ of decrypt(file, found.header, found.length, key));
  return lines(decrypt(file, found.header, found.length, key));
}
