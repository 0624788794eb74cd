/**
 * Consent: who may message whom. A pair is usable only when both sides have granted each other and
 * neither has blocked the other; each side decides the scopes the other may use towards it.
 */
import { AmtpError, agentNotFound, notAuthorized } from '../protocol/errors.js';
import type { ContactRequest, ContactRequestInput, GrantLimits, Peer, PeerState, RequestStatus } from '../protocol/schemas.js';
import type { AgentRecord, BlockRecord, GrantRecord, RequestRecord, WriteOp } from '../store/types.js';
import { auditOp, commit, eventOp, findActiveAgent, findAgent, type Caller, type CoreDeps } from './context.js';
import type { Guard } from './guard.js';
import { newRequestId, nowIso } from './ids.js';

const DEFAULT_SCOPES = ['message'];

/** An id no agent has (agent ids are a2a_ and 32 hex digits). */
const NO_AGENT = 'a2a_-';

/** Turns a full address into the reference of a local agent or of a remote agent's local mirror (core/federation.ts). */
export interface RemoteRefs {
  localRef(caller: Caller, ref: string): Promise<string>;
}

export class Consent {
  /** Set when the server federates: addresses of agents on other servers are resolved through it. */
  remoteRefs?: RemoteRefs;

  constructor(
    private readonly deps: CoreDeps,
    private readonly guard: Guard,
  ) {}

  private ref(caller: Caller, ref: string): Promise<string> {
    return this.remoteRefs && ref.includes('@') ? this.remoteRefs.localRef(caller, ref) : Promise.resolve(ref);
  }

  /**
   * The gate every message passes. Unknown agent, blocked either way, or not granted both ways all
   * give the same 403, so a sender learns nothing about agents that have not accepted it.
   */
  async assertCanSend(sender: Caller, recipientRef: string, scope: string): Promise<AgentRecord> {
    const { store } = this.deps;
    const recipient = await findActiveAgent(store, recipientRef);
    // The same reads run for an unknown recipient, so the answer's timing does not tell them apart.
    const other = recipient && recipient.id !== sender.id ? recipient.id : NO_AGENT;
    const pair = await store.pairConsent(other, sender.id);
    const [inbound, outbound, blockedByRecipient, blockedBySender] = [pair.aToB, pair.bToA, pair.aBlocksB, pair.bBlocksA];
    if (!recipient || other === NO_AGENT || !inbound || !outbound || blockedByRecipient || blockedBySender) {
      // What the sender did itself (its own blocks; the recipient's grant, listed in its peers) may be
      // named. Nothing here depends on whether the recipient blocked the sender: that stays unsaid.
      if (recipient && other !== NO_AGENT && blockedBySender) {
        throw new AmtpError(
          'not_authorized',
          `You blocked ${recipient.name}. Unblock them (a2a_unblock_agent, or DELETE /api/blocks/${recipient.id}) and connect again before messaging them.`,
        );
      }
      if (recipient && inbound && !outbound) {
        throw new AmtpError(
          'not_authorized',
          `You revoked ${recipient.name} (or never authorized them), so the pair is not mutual. a2a_authorize_agent (or POST /api/authorizations) restores it.`,
        );
      }
      throw notAuthorized();
    }
    if (!inbound.scopes.includes(scope)) {
      throw new AmtpError(
        'scope_not_granted',
        `${recipient.name} has not granted you the scope "${scope}". Granted: ${inbound.scopes.join(', ')}. Use one of those, or ask them to extend the grant.`,
        { granted_scopes: inbound.scopes },
      );
    }
    return recipient;
  }

  async request(
    caller: Caller,
    input: ContactRequestInput,
    source?: { ip: string },
  ): Promise<{ request: ContactRequest; created: boolean }> {
    const { store, config, limiter } = this.deps;
    const target = await this.reachableAgent(caller, await this.ref(caller, input.agent_id));
    if (await store.isBlocked(caller.id, target.id)) {
      throw new AmtpError('invalid_request', `You blocked ${target.name}. Unblock them first (DELETE /api/blocks/${target.id}).`);
    }
    const [mine, theirs, pending] = await Promise.all([
      store.grant(caller.id, target.id),
      store.grant(target.id, caller.id),
      store.pendingRequest(caller.id, target.id),
    ]);
    if (mine && theirs) {
      throw new AmtpError(
        'already_connected',
        `You and ${target.name} already authorize each other. Send a message, or change scopes with POST /api/authorizations.`,
      );
    }
    if (pending) return { request: await this.view(pending), created: false };
    limiter.take(`request:${caller.id}`, config.limits.requestsPerHour, 3_600_000, 'contact requests');
    // Per source address too, so one host cannot fan out through many fresh agents.
    if (source) limiter.take(`request-ip:${source.ip}`, config.limits.requestsPerHour * 5, 3_600_000, 'contact requests from this address');
    if ((await store.countPendingOutgoing(caller.id)) >= config.limits.maxPendingRequests) {
      throw new AmtpError(
        'too_many_pending_requests',
        `You have ${config.limits.maxPendingRequests} requests still pending. Wait for answers before asking more agents.`,
      );
    }
    const at = nowIso();
    const scopes = input.scopes ?? DEFAULT_SCOPES;
    // An agent that already invited the caller gets an approved request: the pair is mutual at once.
    const request: RequestRecord = {
      id: newRequestId(),
      from_id: caller.id,
      to_id: target.id,
      note: input.note ?? null,
      scopes,
      status: theirs ? 'approved' : 'pending',
      created_at: at,
      decided_at: theirs ? at : null,
    };
    const ops: WriteOp[] = [
      { op: 'createRequest', request },
      auditOp(caller.id, 'request.sent', target.id, { request_id: request.id, scopes }),
      eventOp(target.id, 'contact_request.received', {
        request_id: request.id,
        from_id: caller.id,
        from_name: caller.name,
        note: request.note,
        scopes,
        status: request.status,
      }),
    ];
    if (!mine) ops.push(...grantOps(caller.id, target.id, scopes, null));
    await commit(this.deps, ops);
    return { request: await this.view(request), created: true };
  }

  async listRequests(caller: Caller, filter: { direction?: 'incoming' | 'outgoing'; status?: RequestStatus }): Promise<ContactRequest[]> {
    const rows = await this.deps.store.requests(caller.id, filter);
    return this.views(rows);
  }

  async approve(caller: Caller, requestId: string, scopes?: string[], limits?: GrantLimits): Promise<ContactRequest> {
    const request = await this.incomingPending(caller, requestId);
    const existing = await this.deps.store.grant(caller.id, request.from_id);
    const granted = scopes ?? existing?.scopes ?? request.scopes;
    const decided = await commit(this.deps, [
      { op: 'decideRequest', id: request.id, status: 'approved', at: nowIso() },
      ...grantOps(caller.id, request.from_id, granted, existing),
      ...(await this.guard.limitOps(caller.id, request.from_id, granted, limits)),
      approvedEvent(request, caller),
    ]);
    if (!decided[0]) throw notPending();
    return this.view({ ...request, status: 'approved', decided_at: nowIso() });
  }

  /** Declining blocks the requester for good; only the decliner can lift it. */
  async decline(caller: Caller, requestId: string): Promise<ContactRequest> {
    const request = await this.incomingPending(caller, requestId);
    const decided = await commit(this.deps, [
      { op: 'decideRequest', id: request.id, status: 'declined', at: nowIso() },
      ...blockOps(caller.id, request.from_id),
      auditOp(caller.id, 'request.declined', request.from_id, { request_id: request.id }),
    ]);
    if (!decided[0]) throw notPending();
    return this.view({ ...request, status: 'declined', decided_at: nowIso() });
  }

  /** Grant (or change the scopes of) an authorization; approves that agent's pending request if any. */
  async authorize(caller: Caller, agentRef: string, scopes?: string[], limits?: GrantLimits): Promise<Peer> {
    const { store } = this.deps;
    const target = await this.reachableAgent(caller, await this.ref(caller, agentRef));
    if (await store.isBlocked(caller.id, target.id)) {
      throw new AmtpError('invalid_request', `You blocked ${target.name}. Unblock them first (DELETE /api/blocks/${target.id}).`);
    }
    const [existing, pending] = await Promise.all([store.grant(caller.id, target.id), store.pendingRequest(target.id, caller.id)]);
    const newScopes = scopes ?? existing?.scopes ?? pending?.scopes ?? DEFAULT_SCOPES;
    const ops: WriteOp[] = [
      ...grantOps(caller.id, target.id, newScopes, existing),
      ...(await this.guard.limitOps(caller.id, target.id, newScopes, limits)),
    ];
    if (pending) ops.unshift({ op: 'decideRequest', id: pending.id, status: 'approved', at: nowIso() }, approvedEvent(pending, caller));
    // An agent on another server learns of a new or changed grant (its server mirrors it, SPEC §19.6).
    else if (ops.length && target.name.includes('@'))
      ops.push(eventOp(target.id, 'contact_request.approved', { request_id: null, by_id: caller.id, by_name: caller.name }));
    await commit(this.deps, ops);
    return this.peer(caller, target.id);
  }

  /** Takes effect for the very next message: the gate reads grants on every send. */
  async revoke(caller: Caller, agentRef: string): Promise<{ revoked: boolean }> {
    const target = await this.reachableAgent(caller, agentRef);
    const [deleted] = await commit(this.deps, [
      { op: 'deleteGrant', granter_id: caller.id, grantee_id: target.id },
      { op: 'setGrantLimits', granter_id: caller.id, grantee_id: target.id, limits: [] },
      auditOp(caller.id, 'grant.revoked', target.id),
      eventOp(target.id, 'authorization.revoked', { by_id: caller.id, by_name: caller.name }),
    ]);
    return { revoked: deleted };
  }

  async block(caller: Caller, agentRef: string): Promise<{ blocked: true }> {
    const target = await findAgent(this.deps.store, agentRef);
    if (!target || target.id === caller.id) throw agentNotFound();
    const pending = await this.deps.store.pendingRequest(target.id, caller.id);
    const ops = blockOps(caller.id, target.id);
    if (pending) ops.unshift({ op: 'decideRequest', id: pending.id, status: 'declined', at: nowIso() });
    await commit(this.deps, ops);
    return { blocked: true };
  }

  async unblock(caller: Caller, agentRef: string): Promise<{ unblocked: boolean }> {
    const target = await findAgent(this.deps.store, agentRef);
    if (!target) throw agentNotFound();
    const [deleted] = await commit(this.deps, [
      { op: 'deleteBlock', blocker_id: caller.id, blocked_id: target.id },
      auditOp(caller.id, 'block.removed', target.id),
    ]);
    return { unblocked: deleted };
  }

  async peers(caller: Caller): Promise<Peer[]> {
    const { store } = this.deps;
    const [grants, blocks, pending] = await Promise.all([
      store.grantsInvolving(caller.id),
      store.blocksInvolving(caller.id),
      store.requests(caller.id, { status: 'pending' }),
    ]);
    const ids = new Set<string>();
    for (const g of grants) ids.add(g.granter_id === caller.id ? g.grantee_id : g.granter_id);
    for (const b of blocks) if (b.blocker_id === caller.id) ids.add(b.blocked_id);
    for (const r of pending) ids.add(r.from_id === caller.id ? r.to_id : r.from_id);
    return this.guard.decoratePeers(caller.id, peerViews(caller.id, await store.agentsByIds([...ids]), { grants, blocks, pending }));
  }

  async peer(caller: Caller, agentId: string): Promise<Peer> {
    const found = (await this.peers(caller)).find((p) => p.agent_id === agentId);
    if (!found) throw agentNotFound();
    return found;
  }

  /** An agent the caller may address: unknown and "has blocked the caller" look the same. */
  private async reachableAgent(caller: Caller, ref: string): Promise<AgentRecord> {
    const target = await findActiveAgent(this.deps.store, ref);
    if (!target || (await this.deps.store.isBlocked(target.id, caller.id))) throw agentNotFound();
    if (target.id === caller.id) throw new AmtpError('invalid_request', 'That is you. Name another agent.');
    return target;
  }

  private async incomingPending(caller: Caller, requestId: string): Promise<RequestRecord> {
    const request = await this.deps.store.request(requestId);
    if (!request || request.to_id !== caller.id) {
      throw new AmtpError(
        'request_not_found',
        'No incoming contact request with that id. List them with GET /api/contact-requests?direction=incoming.',
      );
    }
    if (request.status !== 'pending') throw notPending(request.status);
    return request;
  }

  private async view(r: RequestRecord): Promise<ContactRequest> {
    return (await this.views([r]))[0]!;
  }

  private async views(rows: RequestRecord[]): Promise<ContactRequest[]> {
    const agents = await this.deps.store.agentsByIds([...new Set(rows.flatMap((r) => [r.from_id, r.to_id]))]);
    const name = (id: string) => agents.find((a) => a.id === id)?.name ?? 'unknown';
    return rows.map((r) => ({ ...r, from_name: name(r.from_id), to_name: name(r.to_id) }));
  }
}

function grantOps(granter: string, grantee: string, scopes: string[], existing: GrantRecord | null | undefined): WriteOp[] {
  const unique = [...new Set(scopes)].sort();
  if (existing && sameScopes(existing.scopes, unique)) return [];
  const at = nowIso();
  return [
    {
      op: 'putGrant',
      grant: { granter_id: granter, grantee_id: grantee, scopes: unique, created_at: existing?.created_at ?? at, updated_at: at },
    },
    existing
      ? auditOp(granter, 'grant.scopes_changed', grantee, { from: existing.scopes, to: unique })
      : auditOp(granter, 'grant.created', grantee, { scopes: unique }),
  ];
}

const approvedEvent = (request: RequestRecord, approver: Caller): WriteOp =>
  eventOp(request.from_id, 'contact_request.approved', { request_id: request.id, by_id: approver.id, by_name: approver.name });

function blockOps(blocker: string, blocked: string): WriteOp[] {
  return [
    { op: 'putBlock', block: { blocker_id: blocker, blocked_id: blocked, created_at: nowIso() } },
    { op: 'deleteGrant', granter_id: blocker, grantee_id: blocked },
    { op: 'setGrantLimits', granter_id: blocker, grantee_id: blocked, limits: [] },
    auditOp(blocker, 'block.created', blocked),
  ];
}

const sameScopes = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((s, i) => s === b[i]);

function notPending(status?: string) {
  return new AmtpError(
    'request_not_pending',
    `That request was already ${status ?? 'decided'}. Look at GET /api/peers for the current state.`,
  );
}

/**
 * The caller's relation to each of `agents`, from the grants, blocks and pending requests involving
 * the caller (as the store lists them), sorted by name. Pure: the core's peer list, testable alone.
 */
export function peerViews(
  callerId: string,
  agents: AgentRecord[],
  involving: { grants: GrantRecord[]; blocks: BlockRecord[]; pending: RequestRecord[] },
): Peer[] {
  const { grants, blocks, pending } = involving;
  return agents
    .map((agent) => {
      const mine = grants.find((g) => g.granter_id === callerId && g.grantee_id === agent.id);
      const theirs = grants.find((g) => g.granter_id === agent.id && g.grantee_id === callerId);
      const blocked = blocks.some((b) => b.blocker_id === callerId && b.blocked_id === agent.id);
      const incoming = pending.find((r) => r.from_id === agent.id);
      const outgoing = pending.find((r) => r.to_id === agent.id);
      return peerView(agent, { mine, theirs, blocked, incoming, outgoing });
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function peerView(
  agent: AgentRecord,
  s: { mine?: GrantRecord; theirs?: GrantRecord; blocked: boolean; incoming?: RequestRecord; outgoing?: RequestRecord },
): Peer {
  const state: PeerState = s.blocked
    ? 'blocked'
    : s.mine && s.theirs
      ? 'mutual'
      : s.incoming
        ? 'pending_incoming'
        : s.outgoing
          ? 'pending_outgoing'
          : s.mine
            ? 'authorized_by_me'
            : 'authorized_by_them';
  return {
    agent_id: agent.id,
    name: agent.name,
    display_name: agent.display_name,
    state,
    my_scopes: s.mine?.scopes ?? [],
    their_scopes: s.theirs?.scopes ?? [],
    pending_request_id: (s.incoming ?? s.outgoing)?.id ?? null,
  };
}
