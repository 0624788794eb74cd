#!/usr/bin/env node
/** `amtp`: the server and operator commands. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { Mailbox } from '../core/mailbox.js';
import { httpTransport } from '../delivery/transport.js';
import { openStore } from '../store/open.js';
import { serve } from './serve.js';

const USAGE = `Usage: amtp <command>

Server:
  serve                          run the mailbox server (settings from AMTP_* env vars, see .env.example)
  invite create [--ttl-hours N]  create a single-use registration invite (for AMTP_REGISTRATION=invite)
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
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
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
