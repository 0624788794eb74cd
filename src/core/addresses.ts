/** Full addresses of agents (SPEC §16.1): a remote agent's mirror is named by its address; a local agent's is its name at this server's domain. */
import type { Config } from '../config.js';
import { domainOf, formatAddress } from '../protocol/address.js';
import type { AgentRecord } from '../store/types.js';

/** AMTP_PUBLIC_URL's host (with a non-default port); `localhost` for a server without one, which does not federate. */
export const serverDomain = (config: Pick<Config, 'publicUrl'>) => (config.publicUrl ? domainOf(config.publicUrl) : 'localhost');

export const addressOf = (agent: Pick<AgentRecord, 'name'>, domain: string) => (agent.name.includes('@') ? agent.name : formatAddress(agent.name, domain));
