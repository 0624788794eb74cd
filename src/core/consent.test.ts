/** Peer views alone: how grants, blocks and pending requests become the state of each peer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentRecord, BlockRecord, GrantRecord, RequestRecord } from '../store/types.js';
import { peerViews } from './consent.js';

const AT = '2026-01-01T00:00:00.000Z';
const ME = 'a2a_me';

const agent = (id: string, name: string): AgentRecord => ({
  id,
  name,
  display_name: name === 'zoe' ? 'Zoe' : null,
  public_key: null,
  encryption_key: null,
  api_key_hash: `hash-${id}`,
  delivery_secret: 'secret',
  key_rotation: null,
  keys_reset_at: null,
  suspended_at: null,
  created_at: AT,
});
const grant = (granter_id: string, grantee_id: string, scopes = ['message']): GrantRecord => ({
  granter_id,
  grantee_id,
  scopes,
  created_at: AT,
  updated_at: AT,
});
const block = (blocker_id: string, blocked_id: string): BlockRecord => ({ blocker_id, blocked_id, created_at: AT });
const request = (id: string, from_id: string, to_id: string): RequestRecord => ({
  id,
  from_id,
  to_id,
  note: null,
  scopes: ['message'],
  status: 'pending',
  created_at: AT,
  decided_at: null,
});

const view = (other: AgentRecord, involving: Partial<Parameters<typeof peerViews>[2]>) =>
  peerViews(ME, [other], { grants: [], blocks: [], pending: [], ...involving })[0]!;

test('both grants: mutual, with the scopes each side granted', () => {
  const bob = agent('a2a_bob', 'bob');
  assert.deepEqual(view(bob, { grants: [grant(ME, bob.id, ['message', 'scheduling']), grant(bob.id, ME, ['message'])] }), {
    agent_id: bob.id,
    name: 'bob',
    display_name: null,
    state: 'mutual',
    my_scopes: ['message', 'scheduling'],
    their_scopes: ['message'],
    pending_request_id: null,
  });
});

test('one grant: authorized by me or by them; pending requests name their id and direction', () => {
  const bob = agent('a2a_bob', 'bob');
  assert.equal(view(bob, { grants: [grant(ME, bob.id)] }).state, 'authorized_by_me');
  assert.deepEqual(view(bob, { grants: [grant(bob.id, ME)] }).their_scopes, ['message']);
  assert.equal(view(bob, { grants: [grant(bob.id, ME)] }).state, 'authorized_by_them');
  const incoming = view(bob, { pending: [request('req_in', bob.id, ME)] });
  assert.deepEqual([incoming.state, incoming.pending_request_id], ['pending_incoming', 'req_in']);
  const outgoing = view(bob, { grants: [grant(ME, bob.id)], pending: [request('req_out', ME, bob.id)] });
  assert.deepEqual(
    [outgoing.state, outgoing.pending_request_id],
    ['pending_outgoing', 'req_out'],
    'a pending request outranks a one-sided grant',
  );
});

test('my block outranks everything; their block of me is not shown', () => {
  const bob = agent('a2a_bob', 'bob');
  const both = [grant(ME, bob.id), grant(bob.id, ME)];
  assert.equal(view(bob, { grants: both, blocks: [block(ME, bob.id)], pending: [request('req_in', bob.id, ME)] }).state, 'blocked');
  assert.equal(view(bob, { grants: both, blocks: [block(bob.id, ME)] }).state, 'mutual');
});

test('grants and blocks between other agents do not count; peers are sorted by name', () => {
  const [zoe, bob, amy] = [agent('a2a_zoe', 'zoe'), agent('a2a_bob', 'bob'), agent('a2a_amy', 'amy')];
  const peers = peerViews(ME, [zoe, bob, amy], {
    grants: [grant(ME, zoe.id), grant(zoe.id, ME), grant(bob.id, amy.id), grant(amy.id, bob.id), grant(bob.id, ME)],
    blocks: [block(amy.id, bob.id)],
    pending: [request('req_x', amy.id, ME)],
  });
  assert.deepEqual(
    peers.map((p) => [p.name, p.display_name, p.state]),
    [
      ['amy', null, 'pending_incoming'],
      ['bob', null, 'authorized_by_them'],
      ['zoe', 'Zoe', 'mutual'],
    ],
  );
});
