/**
 * The leak guard in the web UI (SPEC §17.4): a message held for its human shows in Settings with what
 * was found, and the human approves it there; the page stays accessible (axe: 0 violations).
 * Runs in the first pass only: the browser does not depend on the backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HeldMessage, InboxOutput, SendOutput } from '../../src/protocol/schemas.js';
import { backend } from '../helpers/server.js';
import { assertAccessible, connectAgents, DESKTOP, harness, missing, type Harness } from '../web/browser.js';

describe('web UI: held mail', { skip: (missing && 'Chromium missing') || (backend === 'postgres' && 'runs in the first pass') }, () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h?.close());

  test('a held message is listed with its findings and approved by the human, then delivered', async () => {
    const alice = await h.agent('web-guard-alice', { keys: false });
    const bob = await h.agent('web-guard-bob', { keys: false });
    await connectAgents(alice, bob);
    await alice.api.put('/api/me/guard', { leak_guard: true });
    const token = `glpat-${'x1Y2z3'.repeat(4)}`;
    const held = await alice.api.post<SendOutput>('/api/messages', { recipient_id: bob.session.agent_id, body: `ci token ${token}` });
    assert.equal(held.body.status, 'held_for_approval');

    const page = await h.open(DESKTOP);
    await h.signIn(page, alice, '#/settings');
    const item = page.getByRole('list', { name: 'Held messages' }).getByRole('listitem');
    await item.getByText(/Held for approval · to web-guard-bob .* found: gitlab/).waitFor();
    await assertAccessible(page, 'settings with held mail');
    await item.getByRole('button', { name: 'Approve and send' }).click();
    await page.getByRole('list', { name: 'Held messages' }).waitFor({ state: 'detached' });
    assert.deepEqual(page.dialogs.length, 1, 'approval is confirmed first');

    assert.deepEqual((await alice.api.get<{ held: HeldMessage[] }>('/api/held')).body.held, []);
    const inbox = (await bob.api.get<InboxOutput>('/api/inbox')).body.messages;
    assert.deepEqual(
      inbox.map((m) => [m.id, m.body]),
      [[held.body.id, `ci token ${token}`]],
    );
  });
});
