import { readFileSync } from 'node:fs';

/**
 * The passphrase of an encrypted export: the first line of `--passphrase-file`, else
 * AMTP_EXPORT_PASSPHRASE, else undefined. Never a command-line argument (it would show in `ps`).
 */
export function exportPassphrase(passphraseFile: string | undefined): string | undefined {
  if (passphraseFile !== undefined) return readFileSync(passphraseFile, 'utf8').split(/\r?\n/)[0]!;
  return process.env.AMTP_EXPORT_PASSPHRASE || undefined;
}
