/** What an agent can be asked: its published manifest, the suggested taxonomy, typed-intent checks. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { AmtpError, agentNotFound } from '../protocol/errors.js';
import type { Capability, CapabilitiesOutput } from '../protocol/schemas.js';
import { auditOp, commit, findActiveAgent, type Caller, type CoreDeps } from './context.js';
import { nowIso } from './ids.js';

export const TAXONOMY = [
  { id: 'scheduling', meaning: 'Find or propose meeting times; calendar questions.' },
  { id: 'invoicing', meaning: 'Send, query or acknowledge invoices and payments.' },
  { id: 'projects', meaning: 'Status, tasks and decisions on shared projects.' },
  { id: 'research', meaning: 'Ask for a search, summary or answer to a question.' },
  { id: 'code-review', meaning: 'Receive pull requests, give async feedback, acknowledge merges.' },
  { id: 'support', meaning: 'Report a problem or ask for help with something the agent runs.' },
  { id: 'casual', meaning: 'Free-form, low-stakes conversation.' },
] as const;

const MAX_SCHEMA_BYTES = 16 * 1024;

/**
 * A fresh Ajv per compile: Ajv caches every schema it has seen (and rejects a reused $id), which for
 * user-supplied schemas would grow without bound. Compiles happen on publish and on cache misses only.
 */
const newAjv = () => new Ajv({ allErrors: true, strict: false, addUsedSchema: false });

export class Capabilities {
  /** Compiled validators keyed by agent and manifest version, so a republish invalidates them. */
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly deps: CoreDeps) {}

  async set(caller: Caller, capabilities: Capability[]): Promise<CapabilitiesOutput> {
    const ids = capabilities.map((c) => c.id);
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate) throw new AmtpError('invalid_request', `Capability id "${duplicate}" appears twice. Ids must be unique.`);
    for (const c of capabilities) if (c.input_schema) this.checkSchema(c.id, c.input_schema);
    const updated_at = nowIso();
    await commit(this.deps, [
      { op: 'setCapabilities', record: { agent_id: caller.id, capabilities, updated_at } },
      auditOp(caller.id, 'capabilities.changed', caller.id, { ids }),
    ]);
    return { agent_id: caller.id, capabilities, updated_at };
  }

  async get(ref: string): Promise<CapabilitiesOutput> {
    const agent = await findActiveAgent(this.deps.store, ref);
    if (!agent) throw agentNotFound();
    const record = await this.deps.store.capabilities(agent.id);
    return { agent_id: agent.id, capabilities: record?.capabilities ?? [], updated_at: record?.updated_at ?? null };
  }

  /** A message with an intent must name one of the recipient's capabilities and fit its schema. */
  async assertValidIntent(recipientId: string, intent: string, payload: unknown): Promise<void> {
    const record = await this.deps.store.capabilities(recipientId);
    const capability = record?.capabilities.find((c) => c.id === intent);
    if (!record || !capability) {
      const known = record?.capabilities.map((c) => c.id) ?? [];
      throw new AmtpError(
        'unknown_intent',
        `The recipient does not publish the intent "${intent}". ${known.length ? `Published: ${known.join(', ')}.` : 'It publishes no intents; omit "intent".'}`,
        { published: known },
      );
    }
    if (!capability.input_schema) return;
    const key = `${recipientId}:${record.updated_at}:${intent}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = newAjv().compile(capability.input_schema);
      if (this.validators.size > 10_000) this.validators.clear();
      this.validators.set(key, validate);
    }
    if (!validate(payload === undefined ? null : payload)) {
      throw new AmtpError(
        'invalid_payload',
        `The payload does not match the "${intent}" schema: ${describe(validate.errors)}. Fix it and send again.`,
        {
          errors: simplify(validate.errors),
        },
      );
    }
  }

  private checkSchema(id: string, schema: Record<string, unknown>): void {
    if (JSON.stringify(schema).length > MAX_SCHEMA_BYTES) {
      throw new AmtpError('invalid_schema', `The input_schema of "${id}" is larger than ${MAX_SCHEMA_BYTES} bytes. Simplify it.`);
    }
    const ajv = newAjv();
    if (!ajv.validateSchema(schema)) {
      throw new AmtpError('invalid_schema', `The input_schema of "${id}" is not a valid JSON Schema: ${describe(ajv.errors)}.`, {
        errors: simplify(ajv.errors),
      });
    }
    try {
      ajv.compile(schema);
    } catch (error) {
      throw new AmtpError('invalid_schema', `The input_schema of "${id}" cannot be compiled: ${(error as Error).message}.`);
    }
  }
}

const simplify = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'invalid', keyword: e.keyword }));

const describe = (errors: ErrorObject[] | null | undefined) =>
  simplify(errors)
    .slice(0, 5)
    .map((e) => `${e.path} ${e.message}`)
    .join('; ');
