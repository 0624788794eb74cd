#!/usr/bin/env node
/** `amtp`: the server and operator commands. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openStore } from '../store/open.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { exportStore, findUnservableRows, formatCounts, importStore, type UnservableRow } from '../store/transfer.js';
import { runAdmin } from './admin.js';
import { CLIENT_COMMANDS, CLIENT_USAGE, runClient } from './client.js';
import { exportPassphrase } from './passphrase.js';
import { serve } from './serve.js';

const SERVER_COMMANDS: Record<string, { usage: string; summary: string; options?: ParseArgsConfig['options'] }> = {
  serve: {
    usage: 'serve',
    summary: 'run the mailbox server; settings come from AMTP_* environment variables (see .env.example and docs/SELF-HOSTING.md)',
  },
  invite: {
    usage: 'invite create [--ttl-hours N]',
    summary: 'create a single-use registration invite (for AMTP_REGISTRATION=invite)',
    options: { 'ttl-hours': { type: 'string' } },
  },
  export: {
    usage: 'export [--encrypt [--passphrase-file F]] <file>',
    summary:
      'write every table to a new JSON-lines file, mode 0600 (one consistent snapshot; --encrypt: scrypt + AES-256-GCM with AMTP_EXPORT_PASSPHRASE or the file)',
    options: { encrypt: { type: 'boolean' }, 'passphrase-file': { type: 'string' } },
  },
  import: {
    usage: 'import [--passphrase-file F] <file>',
    summary: 'load an export into an empty store; verifies row counts and audit chains (an encrypted export needs its passphrase)',
    options: { 'passphrase-file': { type: 'string' } },
  },
  backup: { usage: 'backup <file>', summary: 'consistent online copy of the SQLite database, mode 0600 (PostgreSQL: use pg_dump)' },
  doctor: { usage: 'doctor', summary: 'find stored rows that reads could not serve (exit 1 when there are any)' },
};

const USAGE = `Usage: amtp <command> [options]      amtp <command> --help · amtp --version

Server:
${Object.values(SERVER_COMMANDS)
  .map((c) => `  ${c.usage.padEnd(30)} ${c.summary}`)
  .join('\n')}
  ${'admin <command>'.padEnd(30)} operator commands: agents, suspend, reset-key, delete, invites… (amtp admin --help)
  (export, import, backup, doctor and admin choose the store as serve does: DATABASE_URL, else SQLite in AMTP_DATA_DIR)
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

/** Parses a server command's arguments strictly; --help prints its help instead. */
function parseServerArgs(
  command: string,
  args: string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } | number {
  const spec = SERVER_COMMANDS[command]!;
  const help = `Usage: amtp ${spec.usage}\n\n${spec.summary}.\n`;
  try {
    const parsed = parseArgs({
      args,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help) return (process.stdout.write(help), 0);
    return parsed;
  } catch (error) {
    const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message)?.[1];
    process.stderr.write(`amtp ${command}: ${unknown ? `unknown option ${unknown}` : (error as Error).message}\n${help}`);
    return 2;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) return (process.stderr.write(`${USAGE}\n${CLIENT_USAGE}`), 2);
  if (['help', '--help', '-h'].includes(command)) return (process.stdout.write(`${USAGE}\n${CLIENT_USAGE}`), 0);
  if (['--version', '-V', 'version'].includes(command)) return (process.stdout.write(`${version()}\n`), 0);
  if (CLIENT_COMMANDS.has(command)) return runClient(argv);
  if (command === 'admin') return runAdmin(rest);
  if (!SERVER_COMMANDS[command]) {
    const what = command.startsWith('-') ? `unknown option ${command} (options follow the command)` : `unknown command "${command}"`;
    process.stderr.write(`amtp: ${what}. Run "amtp --help" for the commands.\n`);
    return 2;
  }
  const parsed = parseServerArgs(command, rest);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const usage = () => (process.stderr.write(`Usage: amtp ${SERVER_COMMANDS[command]!.usage}\n`), 2);
  switch (command) {
    case 'serve':
      if (positionals.length) return usage();
      await serve();
      return -1; // keep running
    case 'invite': {
      if (positionals[0] !== 'create' || positionals.length !== 1) return usage();
      const app = await createApp(loadConfig());
      const ttl = values['ttl-hours'] ? Number(values['ttl-hours']) : null;
      const { invite, expires_at } = await app.core.admin.createInvite(ttl).finally(() => app.close());
      process.stdout.write(`${invite}\n`);
      process.stderr.write(`Single-use invite${expires_at ? `, valid until ${expires_at}` : ''}. It is shown once.\n`);
      return 0;
    }
    case 'export': {
      if (positionals.length !== 1) return usage();
      const file = positionals[0]!;
      const passphrase = values.encrypt ? exportPassphrase(values['passphrase-file'] as string | undefined) : undefined;
      if (values.encrypt && passphrase === undefined)
        throw new Error('--encrypt needs a passphrase: set AMTP_EXPORT_PASSPHRASE or pass --passphrase-file <file>');
      const config = loadConfig();
      const source = join(config.dataDir, 'amtp.sqlite');
      if (!config.databaseUrl && !existsSync(source))
        throw new Error(`no database at ${source} (check AMTP_DATA_DIR, or set DATABASE_URL)`);
      const store = await openStore(config);
      try {
        const counts = await exportStore(store, file, { passphrase });
        process.stdout.write(formatCounts(counts));
        process.stderr.write(
          `Exported the ${store.dialect} store to ${file}${passphrase ? ', encrypted' : ''}. It holds secrets: keep it private.\n`,
        );
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'import': {
      if (positionals.length !== 1) return usage();
      const file = positionals[0]!;
      const store = await openStore(loadConfig());
      try {
        const { expected, actual } = await importStore(store, file, {
          passphrase: exportPassphrase(values['passphrase-file'] as string | undefined),
        });
        process.stdout.write(formatCounts(expected, actual));
        process.stderr.write(`Imported ${file} into the ${store.dialect} store: every row count and audit chain verified.\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'backup': {
      if (positionals.length !== 1) return usage();
      const file = positionals[0]!;
      const config = loadConfig();
      if (config.databaseUrl) {
        process.stderr.write(
          'amtp backup copies SQLite only. Back up PostgreSQL with its own tools (consistent while the server runs;\n' +
            'umask 077 keeps the dump, which holds secrets, private):\n\n' +
            `  (umask 077; pg_dump --format=custom --file=${file} "$DATABASE_URL")\n\n` +
            'and restore into a new, empty database with:\n\n' +
            `  pg_restore --no-owner --dbname="$DATABASE_URL" ${file}\n`,
        );
        return 2;
      }
      const source = join(config.dataDir, 'amtp.sqlite');
      if (!existsSync(source)) throw new Error(`no database at ${source} (check AMTP_DATA_DIR)`);
      if (existsSync(file)) throw new Error(`${file} already exists; choose a new file`);
      const store = new SqliteStore({ path: source });
      try {
        await store.backup(file);
      } finally {
        await store.close();
      }
      process.stderr.write(`Backed up ${source} to ${file}.\n`);
      return 0;
    }
    case 'doctor': {
      if (positionals.length) return usage();
      const store = await openStore(loadConfig());
      try {
        return reportUnservable(await findUnservableRows(store));
      } finally {
        await store.close();
      }
    }
  }
  return usage();
}

function reportUnservable(rows: UnservableRow[]): number {
  for (const r of rows) process.stdout.write(`${r.table} ${JSON.stringify(r.key)}: ${r.problem}\n`);
  if (rows.length === 0) {
    process.stderr.write('Every stored row can be served.\n');
    return 0;
  }
  process.stderr.write(
    `${rows.length} stored row(s) break the input rules (SPEC §2) and may fail reads. Delete or repair them, then run amtp doctor again.\n`,
  );
  return 1;
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
