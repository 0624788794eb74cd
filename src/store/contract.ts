/**
 * The storage contract suite: one set of behaviours every backend must show. Each backend's test file
 * calls `storeContract` with a factory for a fresh, migrated, empty store.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AUDIT_GENESIS, findBrokenLink, findBrokenServerLink } from '../protocol/audit-chain.js';
import { findJsonProblem } from '../protocol/json-input.js';
import { StoreError, type AgentRecord, type MessageRecord, type Store } from './types.js';

let n = 0;
const hex = () => (++n).toString(16).padStart(32, '0');
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

export const agent = (name: string): AgentRecord => ({
  id: `a2a_${hex()}`,
  name,
  display_name: null,
  public_key: null,
  encryption_key: null,
  api_key_hash: hex() + hex(),
  delivery_secret: `ds_${hex()}`,
  key_rotation: null,
  keys_reset_at: null,
  suspended_at: null,
  quiet_hours: null,
  created_at: at(0),
});

export const message = (sender: AgentRecord, recipient: AgentRecord, extra: Partial<MessageRecord> = {}): Omit<MessageRecord, 'seq'> => ({
  id: `msg_${hex()}`,
  thread_id: `thr_${hex()}`,
  sender_id: sender.id,
  recipient_id: recipient.id,
  subject: null,
  body: 'hello',
  scope: 'message',
  intent: null,
  payload: null,
  reply_to_id: null,
  client_id: null,
  sealed: null,
  sealed_for_sender: null,
  ed25519_signature: null,
  sig_nonce: null,
  signed_at: null,
  created_at: at(1),
  delivered_at: null,
  read_at: null,
  reply_by: null,
  deadline_state: null,
  deadline_note: null,
  deadline_at: null,
  held_until: null,
  processed: null,
  ...extra,
});

export function storeContract(backend: string, open: () => Promise<Store>): void {
  describe(`store contract: ${backend}`, () => {
    const withStore = (name: string, fn: (store: Store) => Promise<void>): void =>
      void test(name, async () => {
        const store = await open();
        try {
          await fn(store);
        } finally {
          await store.close();
        }
      });

    const twoAgents = async (store: Store) => {
      const a = agent(`a-${hex().slice(-8)}`);
      const b = agent(`b-${hex().slice(-8)}`);
      await store.apply([
        { op: 'createAgent', agent: a },
        { op: 'createAgent', agent: b },
      ]);
      return [a, b] as const;
    };

    withStore('agents: create, find by id, name and key hash; names are unique', async (store) => {
      const [a] = await twoAgents(store);
      assert.deepEqual(await store.agentById(a.id), a);
      assert.deepEqual(await store.agentByName(a.name), a);
      assert.deepEqual(await store.agentByKeyHash(a.api_key_hash), a);
      assert.equal(await store.agentById('a2a_missing'), null);
      await assert.rejects(
        store.apply([{ op: 'createAgent', agent: { ...agent(a.name) } }]),
        (e) => e instanceof StoreError && e.kind === 'name_taken',
      );
      assert.equal(await store.apply([{ op: 'updateAgent', id: a.id, patch: { api_key_hash: 'new' } }]).then(([r]) => r), true);
      assert.equal(await store.agentByKeyHash(a.api_key_hash), null);
      assert.equal((await store.agentByKeyHash('new'))?.id, a.id);
    });

    withStore('apply is all or nothing, and a failed apply does not undo concurrent ones', async (store) => {
      const [a] = await twoAgents(store);
      const fresh = agent(`fresh-${hex().slice(-6)}`);
      const results = await Promise.allSettled([
        store.apply([
          { op: 'createAgent', agent: fresh },
          { op: 'createAgent', agent: agent(a.name) },
        ]),
        store.apply([{ op: 'createAgent', agent: agent(`ok-${hex().slice(-6)}`) }]),
      ]);
      assert.equal(results[0].status, 'rejected');
      assert.equal(results[1].status, 'fulfilled');
      assert.equal(await store.agentById(fresh.id), null, 'the failed apply left nothing behind');
    });

    withStore('many concurrent applies all commit (group commit)', async (store) => {
      const [a, b] = await twoAgents(store);
      const sends = Array.from({ length: 200 }, (_, i) =>
        store.apply([{ op: 'insertMessage', message: message(a, b, { body: `m${i}` }) }]),
      );
      const results = await Promise.all(sends);
      const seqs = results.map(([r]) => r.seq);
      assert.equal(new Set(seqs).size, 200);
      assert.equal(await store.unreadCount(b.id), 200);
    });

    withStore('grants and blocks', async (store) => {
      const [a, b] = await twoAgents(store);
      const grant = { granter_id: a.id, grantee_id: b.id, scopes: ['message'], created_at: at(1), updated_at: at(1) };
      await store.apply([{ op: 'putGrant', grant }]);
      await store.apply([{ op: 'putGrant', grant: { ...grant, scopes: ['casual', 'message'], updated_at: at(2) } }]);
      assert.deepEqual(await store.grant(a.id, b.id), { ...grant, scopes: ['casual', 'message'], updated_at: at(2) });
      assert.equal(await store.grant(b.id, a.id), null);
      assert.equal((await store.grantsInvolving(b.id)).length, 1);
      assert.deepEqual(await store.apply([{ op: 'deleteGrant', granter_id: a.id, grantee_id: b.id }]), [true]);
      assert.deepEqual(await store.apply([{ op: 'deleteGrant', granter_id: a.id, grantee_id: b.id }]), [false]);

      await store.apply([{ op: 'putBlock', block: { blocker_id: a.id, blocked_id: b.id, created_at: at(3) } }]);
      await store.apply([{ op: 'putBlock', block: { blocker_id: a.id, blocked_id: b.id, created_at: at(4) } }]);
      assert.equal(await store.isBlocked(a.id, b.id), true);
      assert.equal(await store.isBlocked(b.id, a.id), false);
      assert.equal((await store.blocksInvolving(b.id)).length, 1);
      assert.deepEqual(await store.apply([{ op: 'deleteBlock', blocker_id: a.id, blocked_id: b.id }]), [true]);
      assert.equal(await store.isBlocked(a.id, b.id), false);
    });

    withStore('the consent of a pair in one read: both grants, both blocks', async (store) => {
      const [a, b] = await twoAgents(store);
      const none = { aToB: null, bToA: null, aBlocksB: false, bBlocksA: false };
      assert.deepEqual(await store.pairConsent(a.id, b.id), none);
      const grant = { granter_id: b.id, grantee_id: a.id, scopes: ['message', 'urgent'], created_at: at(1), updated_at: at(2) };
      await store.apply([{ op: 'putGrant', grant }]);
      await store.apply([{ op: 'putBlock', block: { blocker_id: a.id, blocked_id: b.id, created_at: at(3) } }]);
      assert.deepEqual(await store.pairConsent(a.id, b.id), { ...none, bToA: grant, aBlocksB: true });
      assert.deepEqual(await store.pairConsent(b.id, a.id), { ...none, aToB: grant, bBlocksA: true });
      assert.deepEqual(await store.pairConsent(a.id, 'a2a_nobody'), none);
    });

    withStore('contact requests: one pending per pair, decided once', async (store) => {
      const [a, b] = await twoAgents(store);
      const request = {
        id: `req_${hex()}`,
        from_id: a.id,
        to_id: b.id,
        note: 'hi',
        scopes: ['message'],
        status: 'pending' as const,
        created_at: at(1),
        decided_at: null,
      };
      await store.apply([{ op: 'createRequest', request }]);
      await assert.rejects(store.apply([{ op: 'createRequest', request: { ...request, id: `req_${hex()}` } }]));
      assert.deepEqual(await store.pendingRequest(a.id, b.id), request);
      assert.equal(await store.countPendingOutgoing(a.id), 1);
      assert.deepEqual(
        (await store.requests(b.id, { direction: 'incoming', status: 'pending' })).map((r) => r.id),
        [request.id],
      );
      assert.deepEqual(await store.requests(b.id, { direction: 'outgoing' }), []);
      assert.deepEqual(await store.apply([{ op: 'decideRequest', id: request.id, status: 'approved', at: at(2) }]), [true]);
      assert.deepEqual(await store.apply([{ op: 'decideRequest', id: request.id, status: 'declined', at: at(3) }]), [false]);
      assert.equal((await store.request(request.id))?.status, 'approved');
      assert.equal(await store.pendingRequest(a.id, b.id), null);
    });

    withStore('messages: unique by (sender, client_id), payload round-trips, strictly increasing seq', async (store) => {
      const [a, b] = await twoAgents(store);
      const m = message(a, b, { client_id: 'c1', payload: { n: 1, nested: [true, null, 'x'] }, intent: 'scheduling' });
      const [first] = await store.apply([{ op: 'insertMessage', message: m }]);
      assert.deepEqual(await store.message(m.id), first);
      const retry = { ...m, id: `msg_${hex()}` };
      await assert.rejects(
        store.apply([{ op: 'insertMessage', message: retry }]),
        (e) => e instanceof StoreError && e.kind === 'duplicate',
      );
      assert.equal(await store.message(retry.id), null);
      assert.deepEqual((await store.messageByClientId(a.id, 'c1'))?.payload, { n: 1, nested: [true, null, 'x'] });
      const [other] = await store.apply([{ op: 'insertMessage', message: message(b, a, { client_id: 'c1' }) }]);
      assert.equal(other.sender_id, b.id, 'client ids are per sender');
      assert.ok(other.seq > first.seq);
    });

    withStore('inbox: order, cursors, unread filter, receipts, outbox, thread, conversations', async (store) => {
      const [a, b] = await twoAgents(store);
      const thread_id = `thr_${hex()}`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const [r] = await store.apply([{ op: 'insertMessage', message: message(a, b, { thread_id, body: `m${i}` }) }]);
        ids.push(r.id);
      }
      const asc = await store.inbox(b.id, { unreadOnly: false, order: 'asc', limit: 3 });
      assert.deepEqual(
        asc.map((m) => m.id),
        ids.slice(0, 3),
      );
      const next = await store.inbox(b.id, { unreadOnly: false, order: 'asc', limit: 3, cursorSeq: asc[2]!.seq });
      assert.deepEqual(
        next.map((m) => m.id),
        ids.slice(3),
      );
      const desc = await store.inbox(b.id, { unreadOnly: false, order: 'desc', limit: 2 });
      assert.deepEqual(
        desc.map((m) => m.id),
        [ids[4], ids[3]],
      );
      assert.deepEqual(await store.inbox(a.id, { unreadOnly: false, order: 'asc', limit: 10 }), []);

      assert.deepEqual(await store.apply([{ op: 'markDelivered', recipient_id: b.id, ids: ids.slice(0, 2), at: at(5) }]), [2]);
      assert.deepEqual(await store.apply([{ op: 'markDelivered', recipient_id: a.id, ids, at: at(5) }]), [0], 'only the recipient');
      assert.deepEqual(await store.apply([{ op: 'markRead', recipient_id: b.id, ids: [ids[0]!], at: at(6) }]), [1]);
      assert.equal((await store.message(ids[0]!))?.read_at, at(6));
      assert.equal((await store.message(ids[2]!))?.delivered_at, null);
      assert.equal(await store.unreadCount(b.id), 4);
      const unread = await store.inbox(b.id, { unreadOnly: true, order: 'asc', limit: 10 });
      assert.deepEqual(
        unread.map((m) => m.id),
        ids.slice(1),
      );
      assert.deepEqual(await store.apply([{ op: 'markRead', recipient_id: b.id, thread_id: `thr_${hex()}`, at: at(7) }]), [0]);
      assert.deepEqual(await store.apply([{ op: 'markRead', recipient_id: b.id, thread_id, at: at(7) }]), [4]);
      assert.equal((await store.message(ids[3]!))?.delivered_at, at(7), 'reading implies delivery');

      assert.deepEqual(
        (await store.outbox(a.id, { limit: 2 })).map((m) => m.id),
        [ids[4], ids[3]],
      );
      assert.deepEqual(
        (await store.thread(thread_id)).map((m) => m.id),
        ids,
      );
      const [reply] = await store.apply([{ op: 'insertMessage', message: message(b, a, { thread_id }) }]);
      const conv = await store.conversations(a.id);
      assert.equal(conv.length, 1);
      assert.equal(conv[0]!.peer_id, b.id);
      assert.equal(Number(conv[0]!.last_seq), reply.seq);
      assert.equal(Number(conv[0]!.message_count), 6);
      assert.equal(Number(conv[0]!.unread_count), 1);
      assert.deepEqual(
        (await store.messagesBySeq([reply.seq])).map((m) => m.id),
        [reply.id],
      );
      const c = agent(`c-${hex().slice(-8)}`);
      await store.apply([
        { op: 'createAgent', agent: c },
        { op: 'insertMessage', message: message(a, c) },
      ]);
      const newest = await store.conversation(a.id, b.id, { limit: 4 });
      assert.deepEqual(
        newest.map((m) => m.id),
        [reply.id, ids[4], ids[3], ids[2]],
        'both directions, newest first, other peers left out',
      );
      const older = await store.conversation(b.id, a.id, { limit: 4, cursorSeq: newest[3]!.seq });
      assert.deepEqual(
        older.map((m) => m.id),
        [ids[1], ids[0]],
      );
    });

    withStore('signed and sealed fields round-trip; signature nonces are single-use per sender', async (store) => {
      const [a, b] = await twoAgents(store);
      const sealed = { alg: 'x25519-xchacha20poly1305' as const, epk: 'e'.repeat(43), nonce: 'n'.repeat(32), ciphertext: 'c'.repeat(100) };
      const m = message(a, b, {
        body: null,
        sealed,
        sealed_for_sender: { ...sealed, ciphertext: 'd'.repeat(10) },
        ed25519_signature: 's'.repeat(86),
        sig_nonce: 'nonce-1',
        signed_at: at(1),
      });
      await store.apply([{ op: 'insertMessage', message: m }]);
      const back = await store.message(m.id);
      assert.deepEqual({ ...back, seq: undefined }, { ...m, seq: undefined });
      const rotation = {
        old_public_key: 'o'.repeat(43),
        new_public_key: 'p'.repeat(43),
        new_encryption_key: null,
        rotated_at: at(2),
        signature: 'sig',
      };
      await store.apply([
        { op: 'updateAgent', id: a.id, patch: { public_key: 'p'.repeat(43), key_rotation: rotation, keys_reset_at: at(3) } },
      ]);
      const updated = await store.agentById(a.id);
      assert.deepEqual(updated?.key_rotation, rotation);
      assert.equal(updated?.keys_reset_at, at(3));
      await store.apply([{ op: 'useNonce', sender_id: a.id, nonce: 'n1', expires_at: at(10) }]);
      await store.apply([{ op: 'useNonce', sender_id: b.id, nonce: 'n1', expires_at: at(10) }]);
      await assert.rejects(
        store.apply([{ op: 'useNonce', sender_id: a.id, nonce: 'n1', expires_at: at(10) }]),
        (e) => e instanceof StoreError && e.kind === 'duplicate',
      );
      assert.deepEqual(await store.apply([{ op: 'pruneNonces', before: at(11) }]), [2]);
      await store.apply([{ op: 'useNonce', sender_id: a.id, nonce: 'n1', expires_at: at(20) }]);
    });

    withStore('capabilities round-trip', async (store) => {
      const [a] = await twoAgents(store);
      const record = {
        agent_id: a.id,
        capabilities: [{ id: 'scheduling', title: 'Calendar', input_schema: { type: 'object' } }],
        updated_at: at(1),
      };
      await store.apply([{ op: 'setCapabilities', record }]);
      assert.deepEqual(await store.capabilities(a.id), record);
      await store.apply([{ op: 'setCapabilities', record: { ...record, capabilities: [], updated_at: at(2) } }]);
      assert.deepEqual((await store.capabilities(a.id))?.capabilities, []);
    });

    withStore('a write that cannot be handed to storage fails its own caller only; the store keeps working', async (store) => {
      const [a, b] = await twoAgents(store);
      // Deeper than a structured clone or JSON.stringify can go (the input rules refuse this long before).
      let deep: unknown = 1;
      for (let i = 0; i < 20_000; i++) deep = { a: deep };
      const poisoned = store.apply([{ op: 'insertMessage', message: message(a, b, { payload: deep }) }]);
      const neighbour = store.apply([{ op: 'insertMessage', message: message(a, b, { body: 'same batch' }) }]);
      await assert.rejects(poisoned);
      assert.equal((await neighbour)[0].body, 'same batch');
      const [after] = await store.apply([{ op: 'insertMessage', message: message(a, b, { body: 'after' }) }]);
      assert.deepEqual(
        (await store.inbox(b.id, { unreadOnly: false, order: 'asc', limit: 10 })).map((m) => m.body),
        ['same batch', 'after'],
      );
      assert.equal(after.body, 'after');
    });

    withStore('text round-trips exactly: astral characters, U+FFFF, bidi controls, every backend alike', async (store) => {
      const [a, b] = await twoAgents(store);
      const text = 'emoji \u{1F600} · max BMP \uFFFF · rtl \u202Etxt.exe · zwj \u200D · tab\t · é (NFC) e\u0301 (NFD)';
      const sent = message(a, b, { subject: text, body: text, payload: { [text]: [text] } });
      await store.apply([{ op: 'insertMessage', message: sent }]);
      const stored = await store.message(sent.id);
      assert.equal(stored?.subject, text);
      assert.equal(stored?.body, text);
      assert.deepEqual(stored?.payload, { [text]: [text] });
    });

    withStore(
      'the input rule is one rule on every backend: any text it accepts is stored faithfully; NUL and lone surrogates never pass it',
      async (store) => {
        const [a, b] = await twoAgents(store);
        assert.ok(
          findJsonProblem('a\u0000b') && findJsonProblem('\ud800'),
          'NUL and lone surrogates are refused before any store sees them',
        );
        await fc.assert(
          fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 60 }), async (text) => {
            if (findJsonProblem({ text })) return; // refused with 400 at the API, on every backend alike
            const sent = message(a, b, { subject: text, body: text, payload: { [text]: text } });
            await store.apply([{ op: 'insertMessage', message: sent }]);
            const stored = await store.message(sent.id);
            assert.deepEqual([stored?.subject, stored?.body, stored?.payload], [text, text, { [text]: text }]);
          }),
          { seed: 20261127, numRuns: 150 },
        );
      },
    );

    withStore('audit: appends form a verifiable chain per agent', async (store) => {
      const [a, b] = await twoAgents(store);
      const entry = (agent_id: string, i: number) => ({
        op: 'appendAudit' as const,
        entry: { agent_id, at: at(i), action: 'grant.created' as const, target_id: null, details: { i } },
      });
      const appended = await Promise.all([1, 2, 3].map((i) => store.apply([entry(a.id, i), entry(b.id, i)])));
      // The three applies run concurrently: on PostgreSQL any of them may commit first, so the chain
      // (not the first call) starts at the genesis hash.
      const chain = await store.auditAll(a.id);
      assert.equal(chain[0]!.prev_hash, AUDIT_GENESIS);
      assert.equal(appended.filter(([entry]) => entry.prev_hash === AUDIT_GENESIS).length, 1, 'exactly one append started the chain');
      assert.deepEqual(
        chain.map((e) => e.seq),
        [1, 2, 3],
      );
      assert.equal(findBrokenLink(chain), null);
      assert.equal(findBrokenLink(await store.auditAll(b.id)), null);
      assert.deepEqual(
        (await store.audit(a.id, { afterSeq: 1, limit: 1 })).map((e) => e.seq),
        [2],
      );
      assert.deepEqual(chain.map((e) => e.details.i).sort(), [1, 2, 3], 'concurrent appends may commit in any order, never fork');
    });

    withStore('invites are single-use and expire', async (store) => {
      const [a, b] = await twoAgents(store);
      await store.apply([{ op: 'createInvite', token_hash: 'h1', created_at: at(0), expires_at: null }]);
      await store.apply([{ op: 'createInvite', token_hash: 'h2', created_at: at(0), expires_at: at(1) }]);
      await store.apply([{ op: 'consumeInvite', token_hash: 'h1', agent_id: a.id, at: at(2) }]);
      const unavailable = (e: unknown) => e instanceof StoreError && e.kind === 'invite_unavailable';
      await assert.rejects(store.apply([{ op: 'consumeInvite', token_hash: 'h1', agent_id: b.id, at: at(3) }]), unavailable);
      await assert.rejects(store.apply([{ op: 'consumeInvite', token_hash: 'h2', agent_id: b.id, at: at(3) }]), unavailable);
      await assert.rejects(store.apply([{ op: 'consumeInvite', token_hash: 'nope', agent_id: b.id, at: at(3) }]), unavailable);
    });

    withStore('events: per-agent sequence in commit order; a subscribed webhook gets one delivery per event', async (store) => {
      const [a, b] = await twoAgents(store);
      const ev = (agent_id: string, type: string, i: number) => ({
        op: 'appendEvent' as const,
        event: { id: `evt_${hex()}`, agent_id, type, data: { i }, created_at: at(i) },
      });
      await store.apply([ev(a.id, 'message.received', 1)]);
      const webhook = {
        agent_id: a.id,
        url: 'https://hooks.example/a',
        secret: 'whsec_x',
        events: ['message.received'],
        enabled: true,
        disabled_reason: null,
        created_at: at(0),
        updated_at: at(0),
      };
      await store.apply([{ op: 'putWebhook', webhook }]);
      assert.deepEqual(await store.webhook(a.id), webhook);
      const appended = [];
      for (const i of [2, 3, 4]) appended.push(await store.apply([ev(a.id, 'message.received', i), ev(b.id, 'message.received', i)]));
      await store.apply([ev(a.id, 'message.read', 5)]);
      assert.deepEqual(
        (await store.events(a.id, { afterSeq: 0, limit: 10 })).map((e) => e.seq),
        [1, 2, 3, 4, 5],
      );
      assert.deepEqual(
        (await store.events(a.id, { afterSeq: 3, limit: 10 })).map((e) => e.data),
        [{ i: 4 }, { i: 5 }],
      );
      assert.equal(await store.lastEventSeq(a.id), 5);
      assert.equal(await store.lastEventSeq(b.id), 3);
      assert.equal(await store.pendingDeliveries(a.id), 3, 'only subscribed types, only after the webhook was set');
      assert.equal(await store.pendingDeliveries(b.id), 0, 'no webhook, no delivery');
      const firstId = appended[0]![0].id;

      // Claims hand out each agent's oldest delivery not yet attempted only, and never twice while leased.
      const [claimed] = await store.apply([{ op: 'claimDeliveries', now: at(30), lease_until: at(90), limit: 10 }]);
      assert.deepEqual(
        claimed.map((d) => d.id),
        [firstId],
      );
      assert.deepEqual(await store.apply([{ op: 'claimDeliveries', now: at(31), lease_until: at(91), limit: 10 }]), [[]]);
      const [, next] = await store.apply([
        {
          op: 'recordDelivery',
          id: firstId,
          status: 'delivered',
          attempts: 1,
          next_attempt_at: at(32),
          last_status: 200,
          last_error: null,
          at: at(32),
        },
        { op: 'claimDeliveries', now: at(33), lease_until: at(93), limit: 10, agent_id: a.id },
      ]);
      assert.equal(next.length, 1, 'recording a delivery and claiming the same queue’s next head in one commit');
      assert.equal(next[0]!.event_seq, 3);
      assert.deepEqual(
        await store.apply([{ op: 'claimDeliveries', now: at(33), lease_until: at(93), limit: 10, agent_id: b.id }]),
        [[]],
        'only that agent’s queue',
      );
      await store.apply([
        {
          op: 'recordDelivery',
          id: next[0]!.id,
          status: 'pending',
          attempts: 1,
          next_attempt_at: at(50),
          last_status: 500,
          last_error: 'boom',
          at: at(34),
        },
      ]);
      const [stepped] = await store.apply([{ op: 'claimDeliveries', now: at(40), lease_until: at(99), limit: 10 }]);
      assert.deepEqual(
        stepped.map((d) => d.event_seq),
        [4],
        'a failed delivery steps out of line: the next one is the head',
      );
      assert.deepEqual(
        await store.apply([{ op: 'claimDeliveries', now: at(41), lease_until: at(99), limit: 10 }]),
        [[]],
        'the head is leased, the retry not due yet',
      );
      const [retried] = await store.apply([{ op: 'claimDeliveries', now: at(51), lease_until: at(99), limit: 10 }]);
      assert.deepEqual(
        retried.map((d) => [d.event_seq, d.attempts]),
        [[3, 1]],
        'the retry, when due, beside the queue',
      );
      assert.equal(await store.webhookDeliveredAfter(a.id, 3), false);
      assert.equal(await store.webhookDeliveredAfter(a.id, 1), true, 'seq 2 was delivered');

      assert.deepEqual(await store.apply([{ op: 'disableWebhook', agent_id: a.id, reason: 'gone', at: at(60) }]), [true]);
      assert.equal((await store.webhook(a.id))?.enabled, false);
      assert.deepEqual(
        await store.apply([{ op: 'claimDeliveries', now: at(200), lease_until: at(299), limit: 10 }]),
        [[]],
        'a disabled webhook is not worked',
      );
      assert.deepEqual(
        (await store.deliveries(a.id, { limit: 10 })).map((d) => d.status),
        ['pending', 'pending', 'delivered'],
      );
      assert.deepEqual(await store.apply([{ op: 'redeliver', agent_id: a.id, id: firstId, at: at(61) }]), [true]);
      assert.deepEqual(await store.apply([{ op: 'redeliver', agent_id: b.id, id: firstId, at: at(61) }]), [false], 'only its own');
      assert.deepEqual(await store.apply([{ op: 'deleteWebhook', agent_id: a.id }]), [true]);
      assert.equal(await store.pendingDeliveries(a.id), 0);
      assert.equal(await store.webhook(a.id), null);
      assert.deepEqual(await store.apply([{ op: 'pruneEvents', olderThan: at(3) }]), [3]);
      assert.deepEqual(
        (await store.events(a.id, { afterSeq: 0, limit: 10 })).map((e) => e.seq),
        [3, 4, 5],
      );
    });

    withStore('delivery stats: queued, due, dead-lettered, oldest queued', async (store) => {
      const [a, b] = await twoAgents(store);
      assert.deepEqual(await store.deliveryStats(at(0)), { pending: 0, due: 0, dead: 0, oldest_pending_at: null });
      const hook = (agent_id: string) => ({
        op: 'putWebhook' as const,
        webhook: {
          agent_id,
          url: 'https://hooks.example/x',
          secret: 'whsec_x',
          events: ['message.received'],
          enabled: true,
          disabled_reason: null,
          created_at: at(0),
          updated_at: at(0),
        },
      });
      const ev = (agent_id: string, i: number) => ({
        op: 'appendEvent' as const,
        event: { id: `evt_${hex()}`, agent_id, type: 'message.received', data: {}, created_at: at(i) },
      });
      await store.apply([hook(a.id), hook(b.id), ev(a.id, 1), ev(a.id, 2), ev(b.id, 3)]);
      const [claimed] = await store.apply([{ op: 'claimDeliveries', now: at(10), lease_until: at(70), limit: 1 }]);
      assert.deepEqual(await store.deliveryStats(at(10)), { pending: 3, due: 2, dead: 0, oldest_pending_at: at(1) });
      await store.apply([
        {
          op: 'recordDelivery',
          id: claimed[0]!.id,
          status: 'dead',
          attempts: 5,
          next_attempt_at: at(10),
          last_status: 500,
          last_error: 'x',
          at: at(11),
        },
      ]);
      assert.deepEqual(await store.deliveryStats(at(11)), { pending: 2, due: 2, dead: 1, oldest_pending_at: at(2) });
    });

    withStore('operator: suspension round-trips; agents list in registration order, paged', async (store) => {
      const [a, b] = await twoAgents(store);
      assert.deepEqual(await store.apply([{ op: 'updateAgent', id: a.id, patch: { suspended_at: at(5) } }]), [true]);
      assert.equal((await store.agentByKeyHash(a.api_key_hash))?.suspended_at, at(5));
      await store.apply([{ op: 'updateAgent', id: a.id, patch: { suspended_at: null } }]);
      assert.equal((await store.agentById(a.id))?.suspended_at, null);
      const all = await store.listAgents({ offset: 0, limit: 10 });
      assert.deepEqual(
        all.map((x) => x.id),
        [a, b].map((x) => x.id).sort(),
      );
      assert.deepEqual(
        (await store.listAgents({ offset: 1, limit: 1 })).map((x) => x.id),
        [all[1]!.id],
      );
    });

    withStore('operator: deleting an agent removes everything that names it and nothing else', async (store) => {
      const [a, b] = await twoAgents(store);
      const c = agent(`c-${hex().slice(-8)}`);
      const now = at(1);
      await store.apply([
        { op: 'createAgent', agent: c },
        { op: 'putGrant', grant: { granter_id: a.id, grantee_id: b.id, scopes: ['message'], created_at: now, updated_at: now } },
        { op: 'putGrant', grant: { granter_id: b.id, grantee_id: c.id, scopes: ['message'], created_at: now, updated_at: now } },
        { op: 'putBlock', block: { blocker_id: b.id, blocked_id: a.id, created_at: now } },
        {
          op: 'createRequest',
          request: {
            id: `req_${hex()}`,
            from_id: c.id,
            to_id: a.id,
            note: null,
            scopes: ['message'],
            status: 'pending',
            created_at: now,
            decided_at: null,
          },
        },
        { op: 'insertMessage', message: message(a, b) },
        { op: 'insertMessage', message: message(b, a) },
        { op: 'insertMessage', message: message(b, c) },
        { op: 'useNonce', sender_id: a.id, nonce: 'n1', expires_at: at(9) },
        { op: 'setCapabilities', record: { agent_id: a.id, capabilities: [], updated_at: now } },
        { op: 'appendAudit', entry: { agent_id: a.id, at: now, action: 'grant.created', target_id: b.id, details: {} } },
        {
          op: 'putWebhook',
          webhook: {
            agent_id: a.id,
            url: 'https://hooks.example/a',
            secret: 'whsec_x',
            events: ['message.received'],
            enabled: true,
            disabled_reason: null,
            created_at: now,
            updated_at: now,
          },
        },
        { op: 'appendEvent', event: { id: `evt_${hex()}`, agent_id: a.id, type: 'message.received', data: {}, created_at: now } },
      ]);
      assert.deepEqual(await store.apply([{ op: 'deleteAgent', id: a.id }]), [true]);
      assert.equal(await store.agentById(a.id), null);
      assert.deepEqual(await store.grantsInvolving(a.id), []);
      assert.deepEqual(await store.blocksInvolving(a.id), []);
      assert.deepEqual(await store.requests(a.id, {}), []);
      assert.deepEqual(await store.auditAll(a.id), []);
      assert.deepEqual(await store.events(a.id, { afterSeq: 0, limit: 10 }), []);
      assert.equal(await store.webhook(a.id), null);
      assert.equal(await store.capabilities(a.id), null);
      assert.equal(
        (await store.inbox(b.id, { unreadOnly: false, order: 'asc', limit: 10 })).length,
        0,
        'mail from the deleted agent is gone',
      );
      assert.equal((await store.outbox(b.id, { limit: 10 })).length, 1, 'only mail between the others remains');
      assert.equal((await store.grantsInvolving(c.id)).length, 1);
      await store.apply([{ op: 'useNonce', sender_id: a.id, nonce: 'n1', expires_at: at(9) }]);
      await store.apply([{ op: 'createAgent', agent: { ...agent(a.name) } }]);
      assert.deepEqual(await store.apply([{ op: 'deleteAgent', id: a.id }]), [false]);
    });

    withStore('operator: only an open invite can be revoked, and a revoked one cannot be used', async (store) => {
      const [a] = await twoAgents(store);
      await store.apply([
        { op: 'createInvite', token_hash: 'r1', created_at: at(0), expires_at: null },
        { op: 'createInvite', token_hash: 'r2', created_at: at(1), expires_at: null },
      ]);
      assert.deepEqual(await store.apply([{ op: 'revokeInvite', token_hash: 'r1', at: at(2) }]), [true]);
      assert.deepEqual(await store.apply([{ op: 'revokeInvite', token_hash: 'r1', at: at(3) }]), [false]);
      await assert.rejects(
        store.apply([{ op: 'consumeInvite', token_hash: 'r1', agent_id: a.id, at: at(3) }]),
        (e) => e instanceof StoreError && e.kind === 'invite_unavailable',
      );
      await store.apply([{ op: 'consumeInvite', token_hash: 'r2', agent_id: a.id, at: at(3) }]);
      assert.deepEqual(await store.apply([{ op: 'revokeInvite', token_hash: 'r2', at: at(4) }]), [false], 'a used invite stays used');
      const invites = await store.invites();
      assert.deepEqual(
        invites.map((i) => [i.token_hash, i.revoked_at, i.used_by]),
        [
          ['r2', null, a.id],
          ['r1', at(2), null],
        ],
      );
    });

    withStore('operator: the server audit log is one verifiable chain, even under concurrent appends', async (store) => {
      const entry = (i: number) => ({
        op: 'appendServerAudit' as const,
        entry: { at: at(i), action: 'admin.agents.listed', target_id: null, details: { i } },
      });
      const appended = await Promise.all([1, 2, 3, 4].map((i) => store.apply([entry(i)])));
      const chain = await store.serverAuditAll();
      assert.deepEqual(
        chain.map((e) => e.seq),
        [1, 2, 3, 4],
      );
      assert.equal(chain[0]!.prev_hash, AUDIT_GENESIS);
      assert.equal(findBrokenServerLink(chain), null);
      assert.deepEqual(chain.map((e) => e.details.i).sort(), [1, 2, 3, 4]);
      assert.deepEqual(appended.map(([r]) => r.hash).sort(), chain.map((e) => e.hash).sort());
      assert.equal(findBrokenServerLink([chain[0]!, { ...chain[1]!, details: { i: 99 } }]), 2, 'an edited entry breaks the chain');
    });

    withStore('retention: prune by age and by count per mailbox', async (store) => {
      const [a, b] = await twoAgents(store);
      for (let i = 0; i < 4; i++)
        await store.apply([{ op: 'insertMessage', message: message(a, b, { created_at: at(10 + i), body: `b${i}` }) }]);
      for (let i = 0; i < 2; i++) await store.apply([{ op: 'insertMessage', message: message(b, a, { created_at: at(20 + i) }) }]);
      assert.deepEqual(await store.apply([{ op: 'pruneMessages', olderThan: at(11), keepPerMailbox: null }]), [1]);
      assert.deepEqual(await store.apply([{ op: 'pruneMessages', olderThan: null, keepPerMailbox: 2 }]), [1]);
      assert.deepEqual(
        (await store.inbox(b.id, { unreadOnly: false, order: 'asc', limit: 10 })).map((m) => m.body),
        ['b2', 'b3'],
      );
      assert.equal((await store.inbox(a.id, { unreadOnly: false, order: 'asc', limit: 10 })).length, 2);
    });
  });
}
