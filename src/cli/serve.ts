import { loadConfig } from '../config.js';
import { createServer } from '../http/server.js';

/** `amtp serve` / `npm start`: run the mailbox server until SIGINT/SIGTERM, then shut down gracefully. */
export async function serve(): Promise<void> {
  const config = loadConfig();
  const server = await createServer(config);
  const url = await server.listen();
  const shown = config.publicUrl ?? url;
  // stdout carries only JSON log lines (for log shippers); the human banner goes to stderr.
  process.stderr.write(
    `agent2agent (AMTP) listening on ${url}\n` +
      `  REST API  ${shown}/api   (described at ${shown}/openapi.json)\n` +
      `  MCP       ${shown}/mcp\n` +
      `  storage   ${config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`}\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
