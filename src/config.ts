/**
 * Server settings. Every setting has a default so `npm start` needs no environment; each can be
 * overridden by the AMTP_* variable named beside it (documented in .env.example).
 */
import { resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

const Bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const Int = (min: number) => z.coerce.number().int().min(min);

/** PostgreSQL connections per instance; a quarter of them commit writes (src/store/postgres). */
export const DEFAULT_PG_POOL_SIZE = 16;

/** About 4.7 days of retries, doubling up to 12 hours apart (SMTP gives up after about 5 days). */
const FEDERATION_RETRY_DEFAULT = '30,60,120,300,600,1800,3600,7200,14400,28800,43200,43200,43200,43200,43200,43200,43200,43200';

const EnvSchema = z.object({
  AMTP_HOST: z.string().default('127.0.0.1'),
  AMTP_PORT: Int(0).max(65535).default(8787),
  AMTP_DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z.string().optional(),
  AMTP_PUBLIC_URL: z.string().url().optional(),
  AMTP_SERVER_NAME: z.string().default('agent2agent'),
  AMTP_REGISTRATION: z.enum(['open', 'invite', 'closed']).default('open'),
  AMTP_DURABILITY: z.enum(['full', 'relaxed']).default('full'),
  AMTP_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  AMTP_TRUST_PROXY: z.string().default('false'),
  AMTP_MAX_MESSAGE_BYTES: Int(1024).default(64 * 1024),
  AMTP_MAX_REQUEST_BYTES: Int(4096).default(1024 * 1024),
  AMTP_RATE_SEND_PER_MINUTE: Int(0).default(600),
  AMTP_RATE_PAIR_PER_MINUTE: Int(0).default(120),
  AMTP_RATE_REGISTER_PER_HOUR: Int(0).default(30),
  AMTP_RATE_REQUESTS_PER_HOUR: Int(0).default(60),
  AMTP_MAX_PENDING_REQUESTS: Int(1).default(100),
  /** The protocol caps `wait` at 60 (SPEC §5): this can only lower it. */
  AMTP_MAX_WAIT_SECONDS: Int(0).max(60).default(60),
  AMTP_MAX_CONNECTIONS: Int(0).default(10_000),
  AMTP_MAX_STREAMS_PER_AGENT: Int(1).default(5),
  AMTP_STREAM_HEARTBEAT_SECONDS: Int(1).default(15),
  AMTP_EVENT_RETENTION_DAYS: Int(0).default(7),
  AMTP_WEBHOOK_ALLOW_HTTP: Bool.default(false),
  AMTP_WEBHOOK_ALLOW_LOOPBACK: Bool.default(false),
  AMTP_WEBHOOK_ALLOWED_PORTS: z
    .string()
    .regex(/^(\*|\d+(,\d+)*)$/, 'a comma-separated list of ports, or *')
    .default('*'),
  AMTP_WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'comma-separated seconds')
    .default('5,30,120,600,1800,3600,7200,14400,28800,28800'),
  AMTP_WEBHOOK_CONCURRENCY: Int(1).default(8),
  AMTP_WEBHOOK_LEASE_SECONDS: Int(1).default(60),
  AMTP_WEBHOOK_TIMEOUT_SECONDS: Int(1).max(120).default(15),
  AMTP_MCP_ALLOWED_HOSTS: z.string().default(''),
  AMTP_MCP_ALLOWED_ORIGINS: z.string().default(''),
  AMTP_SIGNATURE_WINDOW_SECONDS: Int(1).default(300),
  AMTP_RETENTION_DAYS: Int(0).default(0),
  AMTP_RETENTION_MAX_MESSAGES: Int(0).default(0),
  AMTP_PG_POOL_SIZE: Int(1).max(1000).default(DEFAULT_PG_POOL_SIZE),
  AMTP_LOOP_MAX_MESSAGES: Int(2).default(20),
  AMTP_LOOP_WINDOW_SECONDS: Int(1).default(600),
  AMTP_FEDERATION: z.enum(['open', 'allowlist', 'off']).default('open'),
  AMTP_FEDERATION_ALLOWLIST: z.string().default(''),
  AMTP_FEDERATION_BLOCKLIST: z.string().default(''),
  AMTP_FEDERATION_ALLOW_HTTP: Bool.default(false),
  AMTP_FEDERATION_ALLOW_LOOPBACK: Bool.default(false),
  AMTP_FEDERATION_RETRY_SCHEDULE: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'comma-separated seconds')
    .default(FEDERATION_RETRY_DEFAULT),
  AMTP_FEDERATION_REQUESTS_PER_HOUR: Int(0).default(300),
  AMTP_FEDERATION_DOMAIN: z.string().optional(),
  AMTP_SQLITE_CACHE_MB: Int(1).default(32),
  AMTP_SQLITE_MMAP_MB: Int(0).default(128),
});

/**
 * Where the server reads the time for what is scheduled (deadlines, quiet hours, grant expiry, outbox
 * release). Production uses the system clock; tests pass their own (`loadConfig(env, { clock })`) to
 * drive time without sleeping.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Config {
  clock: Clock;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | null;
  /** PostgreSQL connections per instance for queries and transactions (LISTEN takes one more). */
  pgPoolSize: number;
  publicUrl: string | null;
  serverName: string;
  registration: 'open' | 'invite' | 'closed';
  durability: 'full' | 'relaxed';
  logLevel: string;
  /**
   * Which peers may set X-Forwarded-For: false (none), a number of proxy hops, or proxy addresses/CIDRs.
   * Never "all": the leftmost X-Forwarded-For entry is whatever the client wrote.
   */
  trustProxy: false | number | string[];
  limits: {
    maxMessageBytes: number;
    maxRequestBytes: number;
    /** Per minute / hour; 0 disables that limit. */
    sendPerMinute: number;
    pairPerMinute: number;
    registerPerHour: number;
    requestsPerHour: number;
    maxPendingRequests: number;
    maxWaitSeconds: number;
    maxStreamsPerAgent: number;
    /** Open TCP connections per process; 0 = unlimited. */
    maxConnections: number;
  };
  streamHeartbeatSeconds: number;
  /** How far signed_at may be from the server's clock; also how long nonces are remembered. */
  signatureWindowSeconds: number;
  mcp: {
    /** Extra Host values /mcp answers to (besides the public URL's host and loopback names). */
    allowedHosts: string[];
    /** Extra browser origins allowed to call /mcp. */
    allowedOrigins: string[];
  };
  webhooks: {
    allowHttp: boolean;
    /** Tests and local development only: permits 127.0.0.0/8 and ::1, nothing else private. */
    allowLoopback: boolean;
    /** null: any port. */
    allowedPorts: number[] | null;
    /** Delay before each retry, in seconds; its length is the number of retries. */
    retrySeconds: number[];
    concurrency: number;
    /** How long a claimed delivery stays with its worker before another may take it over (after a crash). */
    leaseSeconds: number;
    /** A delivery that has not been answered in full by then fails (and is retried). */
    timeoutSeconds: number;
  };
  /** The loop breaker (SPEC §17.3): more than maxMessages automatic messages in a thread within windowSeconds stop it. */
  loop: { maxMessages: number; windowSeconds: number };
  federation: {
    /**
     * The domain in this server's addresses when it is not AMTP_PUBLIC_URL's host (delegation: the
     * domain's /.well-known/amtp names this server's endpoint). Null: the public URL's host.
     */
    domain: string | null;
    /** Whom this server federates with; effective only with a public URL (its domain names the server). */
    mode: 'open' | 'allowlist' | 'off';
    allowlist: string[];
    blocklist: string[];
    /** Tests and local trials only: http:// peers, and peers on loopback addresses. */
    allowHttp: boolean;
    allowLoopback: boolean;
    /** Delay before each retry of a relay, in seconds; past its end the message fails. */
    retrySeconds: number[];
    /** Contact requests accepted per origin domain per hour; 0 disables the limit. */
    requestsPerHour: number;
  };
  /** 0 = keep forever, for each. */
  retention: { maxAgeDays: number; maxMessagesPerMailbox: number; eventDays: number };
  /** SQLite's page cache and memory map, per connection (two connections: reader and writer); docs/SELF-HOSTING.md. */
  sqlite: { cacheMiB: number; mmapMiB: number };
}

/** Names proxy-addr (Fastify's trustProxy) understands besides addresses and CIDRs. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function parseTrustProxy(value: string): Config['trustProxy'] {
  if (value === 'false' || value === '0') return false;
  if (value === 'true') {
    throw new Error(
      'Invalid configuration: AMTP_TRUST_PROXY=true would trust every X-Forwarded-For entry, and a client can forge them ' +
        '(every per-address limit would be bypassed). Set the number of proxy hops in front of the server (AMTP_TRUST_PROXY=1 ' +
        'for one reverse proxy) or the proxy addresses/CIDRs (AMTP_TRUST_PROXY=127.0.0.1 or 10.0.0.0/8,fd00::/8). See docs/REVERSE-PROXY.md.',
    );
  }
  if (/^\d+$/.test(value)) return Number(value);
  const entries = list(value);
  const bad = entries.filter((e) => !PROXY_RANGE_NAMES.has(e) && !isAddressOrCidr(e));
  if (bad.length || entries.length === 0) {
    throw new Error(
      `Invalid configuration: AMTP_TRUST_PROXY: "${bad.join(', ') || value}" is not a hop count, an IP address or a CIDR (e.g. 1, 127.0.0.1, 10.0.0.0/8).`,
    );
  }
  return entries;
}

function isAddressOrCidr(value: string): boolean {
  return value.includes('/') ? ipaddr.isValidCIDR(value) : ipaddr.isValid(value);
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

/** Whether the server listens only on a loopback interface. */
export function bindsLoopbackOnly(config: Config): boolean {
  return LOOPBACK_HOST.test(config.host);
}

/**
 * A server reachable beyond loopback must know its own host name(s), or /mcp's Host check (DNS
 * rebinding protection) would accept any Host. Refuses such a configuration with what to set.
 */
export function assertHostsConfigured(config: Config): void {
  if (bindsLoopbackOnly(config) || config.publicUrl || config.mcp.allowedHosts.length > 0) return;
  throw new Error(
    `Refusing to start: AMTP_HOST=${config.host} accepts connections beyond loopback, but AMTP_PUBLIC_URL is not set, so /mcp ` +
      'could not refuse requests for other host names (DNS rebinding). Set AMTP_PUBLIC_URL to the URL clients use ' +
      '(e.g. https://mail.example.org), or list the accepted Host values in AMTP_MCP_ALLOWED_HOSTS ' +
      '(AMTP_MCP_ALLOWED_HOSTS=* accepts any Host and turns the protection off).',
  );
}

const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}. See .env.example for every setting.`);
  }
  const e = parsed.data;
  return {
    clock: systemClock,
    host: e.AMTP_HOST,
    port: e.AMTP_PORT,
    dataDir: resolve(e.AMTP_DATA_DIR),
    databaseUrl: e.DATABASE_URL ?? null,
    pgPoolSize: e.AMTP_PG_POOL_SIZE,
    publicUrl: e.AMTP_PUBLIC_URL?.replace(/\/+$/, '') ?? null,
    serverName: e.AMTP_SERVER_NAME,
    registration: e.AMTP_REGISTRATION,
    durability: e.AMTP_DURABILITY,
    logLevel: e.AMTP_LOG_LEVEL,
    trustProxy: parseTrustProxy(e.AMTP_TRUST_PROXY),
    limits: {
      maxMessageBytes: e.AMTP_MAX_MESSAGE_BYTES,
      maxRequestBytes: e.AMTP_MAX_REQUEST_BYTES,
      sendPerMinute: e.AMTP_RATE_SEND_PER_MINUTE,
      pairPerMinute: e.AMTP_RATE_PAIR_PER_MINUTE,
      registerPerHour: e.AMTP_RATE_REGISTER_PER_HOUR,
      requestsPerHour: e.AMTP_RATE_REQUESTS_PER_HOUR,
      maxPendingRequests: e.AMTP_MAX_PENDING_REQUESTS,
      maxWaitSeconds: e.AMTP_MAX_WAIT_SECONDS,
      maxStreamsPerAgent: e.AMTP_MAX_STREAMS_PER_AGENT,
      maxConnections: e.AMTP_MAX_CONNECTIONS,
    },
    streamHeartbeatSeconds: e.AMTP_STREAM_HEARTBEAT_SECONDS,
    signatureWindowSeconds: e.AMTP_SIGNATURE_WINDOW_SECONDS,
    mcp: { allowedHosts: list(e.AMTP_MCP_ALLOWED_HOSTS), allowedOrigins: list(e.AMTP_MCP_ALLOWED_ORIGINS) },
    webhooks: {
      allowHttp: e.AMTP_WEBHOOK_ALLOW_HTTP,
      allowLoopback: e.AMTP_WEBHOOK_ALLOW_LOOPBACK,
      allowedPorts: e.AMTP_WEBHOOK_ALLOWED_PORTS === '*' ? null : e.AMTP_WEBHOOK_ALLOWED_PORTS.split(',').map(Number),
      retrySeconds: e.AMTP_WEBHOOK_RETRY_SCHEDULE.split(',').map(Number),
      concurrency: e.AMTP_WEBHOOK_CONCURRENCY,
      leaseSeconds: e.AMTP_WEBHOOK_LEASE_SECONDS,
      timeoutSeconds: e.AMTP_WEBHOOK_TIMEOUT_SECONDS,
    },
    loop: { maxMessages: e.AMTP_LOOP_MAX_MESSAGES, windowSeconds: e.AMTP_LOOP_WINDOW_SECONDS },
    federation: {
      domain: e.AMTP_FEDERATION_DOMAIN?.toLowerCase() ?? null,
      mode: e.AMTP_FEDERATION,
      allowlist: list(e.AMTP_FEDERATION_ALLOWLIST.toLowerCase()),
      blocklist: list(e.AMTP_FEDERATION_BLOCKLIST.toLowerCase()),
      allowHttp: e.AMTP_FEDERATION_ALLOW_HTTP,
      allowLoopback: e.AMTP_FEDERATION_ALLOW_LOOPBACK,
      retrySeconds: e.AMTP_FEDERATION_RETRY_SCHEDULE.split(',').map(Number),
      requestsPerHour: e.AMTP_FEDERATION_REQUESTS_PER_HOUR,
    },
    retention: {
      maxAgeDays: e.AMTP_RETENTION_DAYS,
      maxMessagesPerMailbox: e.AMTP_RETENTION_MAX_MESSAGES,
      eventDays: e.AMTP_EVENT_RETENTION_DAYS,
    },
    sqlite: { cacheMiB: e.AMTP_SQLITE_CACHE_MB, mmapMiB: e.AMTP_SQLITE_MMAP_MB },
    ...overrides,
  };
}
