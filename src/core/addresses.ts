/** Full addresses of agents (SPEC §19.1): a remote agent's mirror is named by its address; a local agent's is its name at this server's domain. */
import type { Config } from '../config.js';
import { domainOf, formatAddress } from '../protocol/address.js';
import type { AgentRecord } from '../store/types.js';

/**
 * AMTP_FEDERATION_DOMAIN (delegation), else AMTP_PUBLIC_URL's host (with a non-default port); null
 * for a server with neither, which does not federate.
 */
export const federationDomain = (config: Pick<Config, 'publicUrl' | 'federation'>): string | null =>
  config.federation.domain ?? (config.publicUrl ? domainOf(config.publicUrl) : null);

/** The domain in this server's agents' addresses: `localhost` for a server that does not federate. */
export const serverDomain = (config: Pick<Config, 'publicUrl' | 'federation'>) => federationDomain(config) ?? 'localhost';

export const addressOf = (agent: Pick<AgentRecord, 'name'>, domain: string) =>
  agent.name.includes('@') ? agent.name : formatAddress(agent.name, domain);
