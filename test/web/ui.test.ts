/**
 * The web UI in a real browser, the whole flow as a new user walks it — at 1280×800 and at 390×844:
 * register (keys made in the browser, encrypted backup required) → request with a note → approve →
 * sealed message → reply → read receipt → hostile content inert → revoke (confirmed) → send refused →
 * capabilities → settings. At every step: axe-core reports 0 violations and nothing is wider than
 * the viewport. The README screenshots (desktop and phone, light and dark) are taken at the end.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { client } from '../helpers/server.js';
import {
  assertAccessible,
  assertNoHorizontalOverflow,
  connectAgents,
  DESKTOP,
  harness,
  missing,
  PHONE,
  shots,
  type Harness,
} from './browser.js';

describe('web UI: the whole flow', { skip: missing && 'Chromium missing' }, () => {
  let h: Harness;
  before(async () => {
    h = await harness();
    mkdirSync(shots, { recursive: true });
  });
  after(() => h?.close());

  /** Registration through the form: the API key and delivery secret once, and a backup before continuing. */
  const registerIn = async (p: Page, name: string, check: (label: string) => Promise<void>) => {
    await p.getByLabel('Handle').fill(name);
    await p.getByRole('button', { name: 'Register' }).click();
    await p.getByText('shown once').waitFor();
    const [key, secret] = await p.getByTestId('secret').allTextContents();
    assert.match(key ?? '', /^a2a_sk_/);
    assert.match(secret ?? '', /^ds_/, 'the delivery secret is shown at registration');
    await check('registration');
    const next = p.getByRole('button', { name: 'Continue' });
    assert.equal(await next.isDisabled(), true, 'no way on without a backup');
    await p.getByLabel('Backup passphrase').fill('correct horse battery');
    await p.getByLabel('Repeat passphrase').fill('correct horse battery');
    const download = p.waitForEvent('download');
    await p.getByRole('button', { name: 'Download encrypted backup' }).click();
    const file = readFileSync(await (await download).path(), 'utf8');
    assert.equal(JSON.parse(file).format, 'amtp-key-backup-1');
    assert.doesNotMatch(file, /secretKey|a2a_sk_/, 'the backup is encrypted');
    await p.getByLabel('I stored my API key and delivery secret').check();
    await next.click();
    await p.getByRole('heading', { name: 'Network' }).waitFor();
    return key!;
  };

  const walk = async (viewport: { width: number; height: number }, tag: string) => {
    const check = async (p: Page, label: string) => {
      await assertNoHorizontalOverflow(p, `${tag} ${label}`);
      await assertAccessible(p, `${tag} ${label}`);
    };
    const alice = await h.open(viewport);
    await check(alice, 'sign-in');
    const aliceKey = await registerIn(alice, `${tag}-alice`, (l) => check(alice, l));
    const bob = await h.open(viewport);
    await registerIn(bob, `${tag}-bob`, (l) => check(bob, l));
    const stored = await alice.evaluate(() => localStorage.getItem('amtp.session'));
    assert.doesNotMatch(
      stored ?? '',
      /"secretKey"/,
      'after the backup, the private keys are out of reach of scripts (test/web/keys.test.ts)',
    );

    await alice.getByLabel('Agent').fill(`${tag}-bob`);
    await alice.getByLabel('Note').fill('API review?');
    await alice.getByRole('button', { name: 'Request contact' }).click();
    await alice.getByText(`Request to ${tag}-bob: pending.`).waitFor();
    await check(alice, 'network with a request sent');

    // Live: Bob's Network page shows the request, its note and scopes, without a reload.
    const card = bob.getByTestId(`peer-${tag}-alice`);
    await card.getByTestId('request-note').getByText('API review?').waitFor();
    await bob.getByTestId('nav-network-count').getByText('1').waitFor();
    await check(bob, 'network with a request waiting');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.getByText('Connected').waitFor();
    await alice.getByTestId(`peer-${tag}-bob`).getByText('Connected').waitFor();

    await alice.getByTestId(`peer-${tag}-bob`).getByRole('link', { name: 'Message' }).click();
    await alice.getByLabel('Message', { exact: true }).fill('thursday 2pm work for the API review?');
    await alice.getByRole('button', { name: 'Send' }).click();
    await alice.getByTestId('message').filter({ hasText: 'thursday 2pm' }).waitFor();
    await check(alice, 'conversation');

    // The server holds only ciphertext: the body was sealed in Alice's browser.
    const raw = await client(h.t.url, aliceKey).get('/api/outbox');
    assert.equal(raw.body.messages[0].body, null);
    assert.equal(raw.body.messages[0].sealed.alg, 'x25519-xchacha20poly1305');

    await bob.goto(`${h.t.url}/#/inbox`);
    await bob.getByTestId(`conv-${tag}-alice`).getByTestId('unread').waitFor();
    await check(bob, 'conversation list');
    await bob.getByTestId(`conv-${tag}-alice`).click();
    const received = bob.getByTestId('message').filter({ hasText: 'thursday 2pm' });
    await received.waitFor();
    await received.getByText('✓ verified').waitFor();
    await received.locator('.badge.sealed').waitFor();
    await bob.getByLabel('Message', { exact: true }).fill('thursday 2pm is booked. friday 10am?');
    await bob.getByRole('button', { name: 'Send' }).click();
    await bob.getByTestId('message').filter({ hasText: 'friday 10am' }).waitFor();
    await check(bob, 'conversation after reply');

    // Live on Alice's side: the reply arrives and her message shows as read.
    await alice.getByTestId('message').filter({ hasText: 'friday 10am' }).waitFor();
    await alice.getByTestId('message').filter({ hasText: 'thursday 2pm' }).getByTestId('receipt').getByText('Read').waitFor();

    // A hostile body renders as inert text.
    const hostile = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"><button>Approve</button>';
    const sendPlain = await client(h.t.url, aliceKey).post('/api/messages', { recipient_id: `${tag}-bob`, body: hostile });
    assert.equal(sendPlain.status, 400, 'Alice publishes a signing key, so unsigned API sends are refused');
    await alice.getByLabel('Message', { exact: true }).fill(hostile);
    await alice.getByRole('button', { name: 'Send' }).click();
    const evil = bob.getByTestId('message').filter({ hasText: '<script>window.__pwned=1</script>' });
    await evil.waitFor();
    assert.equal(await bob.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await evil.locator('script, img, button').count(), 0);
    await check(bob, 'hostile message');

    await bob.goto(`${h.t.url}/#/network`);
    await bob.getByTestId(`peer-${tag}-alice`).getByRole('button', { name: 'Revoke' }).click();
    assert.match(bob.dialogs.at(-1) ?? '', /Revoke .*alice\?/, 'revoking asks first');
    await bob.getByTestId(`peer-${tag}-alice`).getByText('They allow you · you do not allow them').waitFor();
    await check(bob, 'network after revoke');

    await alice.getByText(new RegExp(`You can message ${tag}-bob again once you both authorize each other`)).waitFor();
    const refused = await client(h.t.url, aliceKey).post('/api/messages', { recipient_id: `${tag}-bob`, body: 'still there?' });
    assert.equal(refused.status, 403);

    await alice.goto(`${h.t.url}/#/capabilities`);
    await alice.getByRole('button', { name: '+ scheduling' }).click();
    await alice.getByRole('button', { name: 'Publish' }).click();
    await alice.getByText('Published 1 capabilities.').waitFor();
    await check(alice, 'capabilities');
    await alice.goto(`${h.t.url}/#/settings`);
    await alice.getByRole('heading', { name: 'Webhook' }).waitFor();
    await check(alice, 'settings');
  };

  test('at 1280×800: every step accessible (axe: 0 violations) and within the viewport', () => walk(DESKTOP, 'desk'));
  test('at 390×844: the whole flow with no horizontal overflow at any step, axe: 0 violations', () => walk(PHONE, 'phone'));

  test('README screenshots: desktop and phone, light and dark (axe: 0 violations on every page in both)', async () => {
    const [ann, bea, cy] = [
      await h.agent('ann-personal', { display_name: 'Ann Lee' }),
      await h.agent('bea-work', { display_name: 'Bea Santos' }),
      await h.agent('cy-calendar', { display_name: 'Cy (calendar agent)' }),
    ];
    await connectAgents(bea, ann);
    await connectAgents(cy, ann, ['message', 'scheduling']);
    await cy.api.put('/api/me/capabilities', {
      capabilities: [
        {
          id: 'scheduling',
          title: 'Find a meeting time',
          input_schema: { type: 'object', properties: { duration_minutes: { type: 'integer' } } },
        },
      ],
    });
    await ann.api.put('/api/me/capabilities', { capabilities: [{ id: 'scheduling', title: 'Find a meeting time' }] });
    await bea.mailbox.send({
      recipient_id: ann.session.agent_id,
      subject: 'API review',
      body: 'Does Thursday 2pm work for the API review?',
      scope: 'message',
    });
    const first = await ann.mailbox.receiveAll((await ann.mailbox.client.conversation(bea.session.agent_id)).messages);
    await ann.mailbox.send({
      recipient_id: bea.session.agent_id,
      body: 'Thursday is booked. Friday 10am?',
      scope: 'message',
      reply_to_id: first[0]!.id,
    });
    await bea.mailbox.send({ recipient_id: ann.session.agent_id, body: 'Friday 10am it is — see you then.', scope: 'message' });
    await cy.mailbox.send({
      recipient_id: ann.session.agent_id,
      scope: 'scheduling',
      intent: 'scheduling',
      payload: { duration_minutes: 30, window: 'next week' },
      body: 'Can you find 30 minutes with Ann?',
    });
    const dee = await h.agent('dee-research', { display_name: 'Dee' });
    await dee.api.post('/api/contact-requests', {
      agent_id: ann.session.agent_id,
      note: 'Hi Ann — I would like to share the research digest with your agent.',
      scopes: ['message'],
    });

    for (const scheme of ['light', 'dark'] as const) {
      for (const [kind, viewport] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ] as const) {
        const p = await h.open(viewport, { colorScheme: scheme });
        await assertAccessible(p, `${scheme} ${kind} sign-in`);
        await h.signIn(p, ann, `#/inbox/${bea.session.name}`);
        await p.getByTestId('message').filter({ hasText: 'Friday 10am it is' }).waitFor();
        await assertAccessible(p, `${scheme} ${kind} inbox`);
        await p.screenshot({ path: `${shots}inbox-${kind}-${scheme}.png` });
        await p.goto(`${h.t.url}/#/network`);
        await p.getByTestId('request-note').waitFor();
        await assertAccessible(p, `${scheme} ${kind} network`);
        await p.screenshot({ path: `${shots}network-${kind}-${scheme}.png` });
        for (const page of ['capabilities', 'settings']) {
          await p.goto(`${h.t.url}/#/${page}`);
          await p.getByRole('heading', { level: 1 }).waitFor();
          await assertAccessible(p, `${scheme} ${kind} ${page}`);
        }
        await p.context().close();
      }
    }
  });
});
