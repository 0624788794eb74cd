#!/usr/bin/env node
/** `amtp`: the server and operator commands. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { Mailbox } from '../core/mailbox.js';
import { httpTransport } from '../delivery/transport.js';
import { openStore } from '../store/open.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { exportStore, formatCounts, importStore } from '../store/transfer.js';
import { CLIENT_COMMANDS, CLIENT_USAGE, runClient } from './client.js';
import { exportPassphrase } from './passphrase.js';
import { serve } from './serve.js';

const USAGE = `Usage: amtp <command>

Server:
  serve                          run the mailbox server (settings from AMTP_* env vars, see .env.example)
  invite create [--ttl-hours N]  create a single-use registration invite (for AMTP_REGISTRATION=invite)

Data (the store is chosen as for serve: DATABASE_URL, else SQLite in AMTP_DATA_DIR):
  export [--encrypt] <file>      write every table to a new JSON-lines file (one consistent snapshot), mode 0600;
                                 --encrypt: scrypt + AES-256-GCM with AMTP_EXPORT_PASSPHRASE or --passphrase-file
  import <file>                  load an export into an empty store; verifies row counts and audit chains
                                 (an encrypted export needs its passphrase, as for export)
  backup <file>                  consistent online copy of the SQLite database, mode 0600 (PostgreSQL: use pg_dump)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      await serve();
      return -1; // keep running
    case 'invite': {
      const { values, positionals } = parseArgs({ args: rest, options: { 'ttl-hours': { type: 'string' } }, allowPositionals: true });
      if (positionals[0] !== 'create') break;
      const config = loadConfig();
      const core = new Mailbox(await openStore(config), config, httpTransport(config.webhooks));
      const ttl = values['ttl-hours'] ? Number(values['ttl-hours']) : null;
      const { invite, expires_at } = await core.identity.createInvite(ttl);
      await core.close();
      process.stdout.write(`${invite}\n`);
      process.stderr.write(`Single-use invite${expires_at ? `, valid until ${expires_at}` : ''}. It is shown once.\n`);
      return 0;
    }
    case 'export': {
      const { values, positionals } = parseArgs({ args: rest, options: { encrypt: { type: 'boolean' }, 'passphrase-file': { type: 'string' } }, allowPositionals: true });
      if (positionals.length !== 1) break;
      const passphrase = values.encrypt ? exportPassphrase(values['passphrase-file']) : undefined;
      if (values.encrypt && passphrase === undefined) throw new Error('--encrypt needs a passphrase: set AMTP_EXPORT_PASSPHRASE or pass --passphrase-file <file>');
      const config = loadConfig();
      const source = join(config.dataDir, 'amtp.sqlite');
      if (!config.databaseUrl && !existsSync(source)) throw new Error(`no database at ${source} (check AMTP_DATA_DIR, or set DATABASE_URL)`);
      const store = await openStore(config);
      try {
        const counts = await exportStore(store, positionals[0]!, { passphrase });
        process.stdout.write(formatCounts(counts));
        process.stderr.write(`Exported the ${store.dialect} store to ${positionals[0]}${passphrase ? ', encrypted' : ''}. It holds secrets: keep it private.\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'import': {
      const { values, positionals } = parseArgs({ args: rest, options: { 'passphrase-file': { type: 'string' } }, allowPositionals: true });
      if (positionals.length !== 1) break;
      const store = await openStore(loadConfig());
      try {
        const { expected, actual } = await importStore(store, positionals[0]!, { passphrase: exportPassphrase(values['passphrase-file']) });
        process.stdout.write(formatCounts(expected, actual));
        process.stderr.write(`Imported ${positionals[0]} into the ${store.dialect} store: every row count and audit chain verified.\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'backup': {
      if (rest.length !== 1) break;
      const config = loadConfig();
      if (config.databaseUrl) {
        process.stderr.write(
          'amtp backup copies SQLite only. Back up PostgreSQL with its own tools (consistent while the server runs;\n' +
            'umask 077 keeps the dump, which holds secrets, private):\n\n' +
            `  (umask 077; pg_dump --format=custom --file=${rest[0]} "$DATABASE_URL")\n\n` +
            'and restore into a new, empty database with:\n\n' +
            `  pg_restore --no-owner --dbname="$DATABASE_URL" ${rest[0]}\n`,
        );
        return 2;
      }
      const source = join(config.dataDir, 'amtp.sqlite');
      if (!existsSync(source)) throw new Error(`no database at ${source} (check AMTP_DATA_DIR)`);
      if (existsSync(rest[0]!)) throw new Error(`${rest[0]} already exists; choose a new file`);
      const store = new SqliteStore({ path: source });
      try {
        await store.backup(rest[0]!);
      } finally {
        await store.close();
      }
      process.stderr.write(`Backed up ${source} to ${rest[0]}.\n`);
      return 0;
    }
    default:
      if (command && CLIENT_COMMANDS.has(command)) return runClient(argv);
      break;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n${CLIENT_USAGE}`);
      return 0;
  }
  process.stderr.write(`amtp: unknown command "${argv.join(' ')}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: Error) => {
    process.stderr.write(`amtp: ${err.message}\n`);
    process.exit(1);
  },
);
