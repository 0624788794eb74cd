/**
 * The official MCP SDK client, used as real clients use it: connect, then `listTools()` first — after
 * which the SDK validates every result's structuredContent against the tool's outputSchema.
 * Against the real server's /mcp (mcpClient) or the local stdio proxy `amtp mcp` (mcpProxy).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CLI } from './cli.js';

export interface ToolCallResult {
  isError?: boolean;
  content: { type: string; text: string }[];
  structuredContent?: any;
  text: string;
  /** structuredContent on success; on an error result (which carries none), the code and message parsed from its text. */
  data: any;
}

export type McpSession = Awaited<ReturnType<typeof session>>;

async function session(transport: Transport) {
  const client = new Client({ name: 'amtp-tests', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolCallResult> => {
    const result = (await client.callTool({ name, arguments: args })) as Omit<ToolCallResult, 'text' | 'data'>;
    const text = result.content.map((c) => c.text).join('\n');
    return { ...result, text, data: result.isError ? { error: parseToolError(text) } : result.structuredContent };
  };
  return { client, tools, call, close: () => client.close() };
}

/** "Error <code>: <message>" → { code, message }; undefined when the text is not in that form. */
export function parseToolError(text: string): { code: string; message: string } | undefined {
  const m = /^Error ([a-z_]+): ([\s\S]+)$/.exec(text);
  return m ? { code: m[1]!, message: m[2]! } : undefined;
}

export function mcpClient(baseUrl: string, apiKey?: string) {
  return session(
    new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
      requestInit: apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {},
    }),
  );
}

/** `amtp mcp` (from source) over stdio, with its profiles in `configDir`. */
export function mcpProxy(configDir: string, args: string[] = []) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => !k.startsWith('AMTP_') && v !== undefined)) as Record<
    string,
    string
  >;
  return session(
    new StdioClientTransport({
      command: process.execPath,
      args: [...CLI, 'mcp', ...args],
      env: { ...env, AMTP_CONFIG_DIR: configDir },
      stderr: 'pipe',
    }),
  );
}
