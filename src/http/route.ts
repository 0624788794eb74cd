/** A REST route is data: method, path, who may call it, its wire schemas, and the core call it maps to. */
import type { z } from 'zod';
import type { Caller } from '../core/context.js';
import type { Mailbox } from '../core/mailbox.js';

export interface RouteContext<B, Q, P> {
  core: Mailbox;
  body: B;
  query: Q;
  params: P;
  ip: string;
  /** Aborted when the client goes away (long-polls stop waiting). */
  signal: AbortSignal;
}

interface Shape<B, Q, P> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  summary: string;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  response: z.ZodType;
  /** Success status; 200 unless stated. */
  status?: number;
}

export interface RouteDef extends Shape<unknown, unknown, unknown> {
  /** 'agent': a Bearer API key is required. 'public': no auth. */
  auth: 'agent' | 'public';
  handler(ctx: RouteContext<unknown, unknown, unknown> & { caller: Caller | null }): Promise<unknown>;
}

export function privateRoute<B = undefined, Q = undefined, P = undefined>(
  def: Shape<B, Q, P> & { handler(ctx: RouteContext<B, Q, P> & { caller: Caller }): Promise<unknown> },
): RouteDef {
  return { ...(def as unknown as RouteDef), auth: 'agent' };
}

export function publicRoute<B = undefined, Q = undefined, P = undefined>(
  def: Shape<B, Q, P> & { handler(ctx: RouteContext<B, Q, P>): Promise<unknown> },
): RouteDef {
  return { ...(def as unknown as RouteDef), auth: 'public' };
}
