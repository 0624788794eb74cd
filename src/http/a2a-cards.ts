/**
 * A2A AgentCards (A2A v1.0, the version `@a2a-js/sdk` 1.x speaks), built from what the core already
 * publishes: an agent with capabilities gets a card whose skills are those capabilities (their JSON
 * Schemas in the AMTP extension's params), HTTP Bearer with an AMTP API key as its security scheme,
 * and its JSON-RPC endpoint. Cards are signed with the server's key: a JWS (EdDSA) over the card's
 * JCS canonical form (A2A §8.4). See docs/SPEC.md, "A2A binding".
 */
import { AgentCard } from '@a2a-js/sdk';
import { FlattenedSign } from 'jose';
import type { Config } from '../config.js';
import type { ServerSigningKey } from '../core/server-key.js';
import { canonicalJson } from '../crypto/jcs.js';
import type { AgentRecord } from '../store/types.js';
import type { Capability } from '../protocol/schemas.js';

export const A2A_PROTOCOL_VERSION = '1.0';
/** The AMTP extension every card declares: the skills' input schemas, the agent's AMTP id, metadata.amtp. */
export const AMTP_EXTENSION_URI = 'urn:amtp:a2a-bridge:v1';
export const agentPath = (name: string) => `/a2a/agents/${name}`;
export const agentCardPath = (name: string) => `${agentPath(name)}/.well-known/agent-card.json`;
export const JWKS_PATH = '/.well-known/jwks.json';

type CardJson = Record<string, unknown>;

/** The card of an agent that publishes capabilities, signed. */
export function agentCard(
  agent: AgentRecord,
  capabilities: Capability[],
  base: string,
  config: Config,
  key: ServerSigningKey,
): Promise<CardJson> {
  const schemas = Object.fromEntries(capabilities.filter((c) => c.input_schema).map((c) => [c.id, c.input_schema]));
  return sign(
    {
      name: agent.display_name ?? agent.name,
      description:
        `The AMTP agent "${agent.name}" on ${config.serverName}. A2A messages become mail in its mailbox, accepted only from AMTP agents ` +
        'it has authorized (consent and scopes), and its reply completes the task. Authenticate with your AMTP API key.',
      supportedInterfaces: [{ url: `${base}${agentPath(agent.name)}`, protocolBinding: 'JSONRPC', protocolVersion: A2A_PROTOCOL_VERSION }],
      provider: { organization: config.serverName, url: base },
      version: A2A_PROTOCOL_VERSION,
      capabilities: {
        streaming: true,
        pushNotifications: false,
        extendedAgentCard: false,
        extensions: [
          {
            uri: AMTP_EXTENSION_URI,
            description: 'AMTP mailbox bridge: the agent id, the skills’ input JSON Schemas (by skill id), and metadata.amtp on messages.',
            required: false,
            params: { agent_id: agent.id, input_schemas: schemas },
          },
        ],
      },
      securitySchemes: {
        amtp: {
          httpAuthSecurityScheme: {
            scheme: 'Bearer',
            bearerFormat: 'AMTP API key',
            description: `The API key of your agent on ${config.serverName} (a2a_sk_…).`,
          },
        },
      },
      securityRequirements: [{ schemes: { amtp: { list: [] } } }],
      defaultInputModes: ['text/plain', 'application/json'],
      defaultOutputModes: ['text/plain', 'application/json'],
      skills: capabilities.map((c) => ({
        id: c.id,
        name: c.title,
        description: c.description ?? c.title,
        tags: [c.id],
        inputModes: c.input_schema ? ['application/json'] : ['text/plain', 'application/json'],
      })),
    },
    base,
    key,
  );
}

/**
 * The server's own card, at /.well-known/agent-card.json: it has no endpoint of its own and lists no
 * agents (the registry is not enumerable); it links to them through the URL template in its extension.
 */
export function serverCard(base: string, config: Config, key: ServerSigningKey): Promise<CardJson> {
  return sign(
    {
      name: config.serverName,
      description:
        `An AMTP mailbox server. Each of its agents that publishes capabilities has its own AgentCard at ${base}/a2a/agents/{name}/.well-known/agent-card.json ` +
        `and its A2A endpoint (JSON-RPC) at ${base}/a2a/agents/{name}.`,
      supportedInterfaces: [],
      provider: { organization: config.serverName, url: base },
      version: A2A_PROTOCOL_VERSION,
      capabilities: {
        extensions: [
          {
            uri: AMTP_EXTENSION_URI,
            description: 'Where this server’s agents’ AgentCards are.',
            required: false,
            params: { agent_card_url_template: `${base}${agentCardPath('{name}')}` },
          },
        ],
      },
      defaultInputModes: ['text/plain', 'application/json'],
      defaultOutputModes: ['text/plain', 'application/json'],
      skills: [],
    },
    base,
    key,
  );
}

/**
 * A2A §8.4: the JWS payload is the card in its canonical form — normalized as its protobuf JSON
 * (unknown fields dropped, defaults omitted), empty values and `signatures` removed — under JCS
 * (RFC 8785). The card is served in that same normalized form, with the signature added.
 */
async function sign(card: CardJson, base: string, key: ServerSigningKey): Promise<CardJson> {
  const normalized = AgentCard.toJSON(AgentCard.fromJSON(card)) as CardJson;
  const payload = new TextEncoder().encode(canonicalJson(withoutEmpty(normalized) ?? {}));
  const jws = await new FlattenedSign(payload)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JOSE', kid: key.kid, jku: `${base}${JWKS_PATH}` })
    .sign(key.privateKey);
  return { ...normalized, signatures: [{ protected: jws.protected, signature: jws.signature }] };
}

/** Drops empty strings, arrays and objects (and nulls), recursively; undefined when nothing is left. */
function withoutEmpty(value: unknown): unknown {
  if (value === '' || value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const kept = value.map(withoutEmpty).filter((v) => v !== undefined);
    return kept.length ? kept : undefined;
  }
  if (typeof value === 'object') {
    const kept = Object.entries(value).flatMap(([k, v]) => {
      const w = withoutEmpty(v);
      return w === undefined ? [] : [[k, w] as const];
    });
    return kept.length ? Object.fromEntries(kept) : undefined;
  }
  return value;
}
