/**
 * A REST route is an operation of the table (src/protocol/operations.ts) joined with its handler:
 * method, path, who may call it, its wire schemas, and the core call it maps to.
 */
import type { Caller } from '../core/context.js';
import type { Mailbox } from '../core/mailbox.js';
import { OPERATION_SPECS, type OperationInput, type OperationOutput, type OperationSpec } from '../protocol/operation-schemas.js';
import type { OPERATIONS, OperationName } from '../protocol/operations.js';

export interface RouteContext<B, Q, P> {
  core: Mailbox;
  body: B;
  query: Q;
  params: P;
  ip: string;
  /** Aborted when the client goes away (long-polls stop waiting). */
  signal: AbortSignal;
}

export interface RouteDef extends OperationSpec {
  /** The operation's path, as Fastify reads it. */
  url: string;
  handler(ctx: RouteContext<unknown, unknown, unknown> & { caller: Caller | null }): Promise<unknown>;
}

/** An agent operation's handler always has a caller; a public one may have none. */
type CallerOf<N extends OperationName> = (typeof OPERATIONS)[N]['auth'] extends 'agent' ? Caller : Caller | null;

/** One handler per operation: it only translates between HTTP and the core. */
export type Handlers = {
  [N in OperationName]: (
    ctx: RouteContext<OperationInput<N>['body'], OperationInput<N>['query'], OperationInput<N>['params']> & { caller: CallerOf<N> },
  ) => Promise<OperationOutput<N>>;
};

/** The routes, in table order: each operation with its schemas and handler. */
export function routesOf(handlers: Handlers): RouteDef[] {
  return OPERATION_SPECS.map((spec) => ({ ...spec, url: spec.path, handler: handlers[spec.name] }));
}
