/**
 * Browser regression tests for the web UI's known bugs (issue 17, 1–11) and its keyboard and search,
 * each in real Chromium against a real server, at 1280×800 and 390×844 where layout is involved.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
  type Agent,
  type Harness,
} from './browser.js';

let n = 0;
const uid = () => `${process.pid % 10000}-${++n}`;
const VIEWPORTS = [
  ['desktop', DESKTOP],
  ['phone', PHONE],
] as const;

describe('web UI regressions', { skip: missing && 'Chromium missing' }, () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h?.close());

  type Agents<N extends readonly string[]> = { [K in keyof N]: Agent };
  const agents = <const N extends readonly string[]>(...names: N) =>
    Promise.all(names.map((x) => h.agent(`${x}-${uid()}`))) as Promise<Agents<N>>;
  const plain = <const N extends readonly string[]>(...names: N) =>
    Promise.all(names.map((x) => h.agent(`${x}-${uid()}`, { keys: false }))) as Promise<Agents<N>>;
  const sendMany = async (from: Agent, to: Agent, count: number, text: (i: number) => string) => {
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, (_, j) =>
          from.api.post('/api/messages', { recipient_id: to.session.agent_id, body: text(i + j) }).then((r) => assert.equal(r.status, 202)),
        ),
      );
    }
  };
  const message = (p: Page, text: string) => p.getByTestId('message').filter({ hasText: text });

  test('1: typed intents render under the strict CSP; one message that fails verification does not hide the rest', async () => {
    const [a, b] = await agents('csp-a', 'csp-b');
    await connectAgents(a, b, ['message', 'scheduling']);
    const schema = { type: 'object', properties: { duration_minutes: { type: 'integer' } }, required: ['duration_minutes'] };
    await b.api.put('/api/me/capabilities', { capabilities: [{ id: 'scheduling', title: 'Find a meeting time', input_schema: schema }] });
    await a.mailbox.send({ recipient_id: b.session.agent_id, body: 'plain hello', scope: 'message' });
    await a.mailbox.send({
      recipient_id: b.session.agent_id,
      scope: 'scheduling',
      intent: 'scheduling',
      payload: { duration_minutes: 30 },
    });
    await a.mailbox.send({
      recipient_id: b.session.agent_id,
      scope: 'scheduling',
      intent: 'scheduling',
      payload: { duration_minutes: 'soon' },
    });
    await a.mailbox.send({ recipient_id: b.session.agent_id, body: 'altered in transit', scope: 'message' });
    await a.mailbox.send({ recipient_id: b.session.agent_id, body: 'signature forged', scope: 'message' });
    const sent = await h.t.sql('SELECT id, ed25519_signature FROM messages WHERE sender_id = ? ORDER BY seq ASC', a.session.agent_id);
    const [altered, forged] = [sent[3]!.id, sent[4]!.id];
    // An operator with database access swaps one signature: the recipient's check must fail loudly.
    await h.t.sql('UPDATE messages SET ed25519_signature = ? WHERE id = ?', sent[0]!.ed25519_signature, forged);

    const p = await h.open();
    // A network attacker alters one message on its way to the browser: its delivery MAC no longer checks out.
    await p.route('**/api/conversations/*?*', async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      for (const m of body.messages) if (m.id === altered) m.scope = 'tampered';
      await route.fulfill({ response: res, json: body });
    });
    await h.signIn(p, b, `#/inbox/${a.session.name}`);
    await message(p, 'plain hello').waitFor();
    const typed = p.getByTestId('message').filter({ has: p.locator('dd', { hasText: /^30$/ }) });
    await typed.getByText('Request: Find a meeting time').waitFor();
    await message(p, 'soon')
      .getByText(/does not match the "scheduling" schema/)
      .waitFor();
    await message(p, 'failed verification and is hidden').waitFor();
    const forgedView = message(p, 'signature forged');
    await forgedView.getByText('⚠ signature failed').waitFor();
    await forgedView.getByText(/Do not trust this content/).waitFor();
    assert.equal(await p.getByTestId('message').count(), 5, 'every message is shown, the failing ones as such');
    assert.deepEqual(p.cspViolations, [], 'nothing needed eval: the CSP reported no violation');
    const csp = (await p.request.get(h.t.url)).headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    await assertAccessible(p, 'thread with failures');
  });

  test('2: conversations come per peer from the server: 1 from c survives 300 from b; newest at the bottom, older ones on scrolling up', async () => {
    const [a, b, c] = await plain('many-a', 'many-b', 'many-c');
    await connectAgents(b, a);
    await connectAgents(c, a);
    await c.api.post('/api/messages', { recipient_id: a.session.agent_id, body: 'the one from c' });
    await sendMany(b, a, 299, (i) => `b-${String(i).padStart(3, '0')}`);
    // Sent alone, after the concurrent batches: certainly the newest.
    await b.api.post('/api/messages', { recipient_id: a.session.agent_id, body: 'b-299 newest' });
    for (const [kind, viewport] of VIEWPORTS) {
      const p = await h.open(viewport);
      await h.signIn(p, a, `#/inbox/${c.session.name}`);
      await message(p, 'the one from c').waitFor();
      assert.equal(await p.getByTestId('message').count(), 1);
      await p.goto(`${h.t.url}/#/inbox/${b.session.name}`);
      const newest = message(p, 'b-299 newest');
      await newest.waitFor();
      assert.ok(
        await newest.evaluate((el) => {
          const list = el.closest('ol')!.getBoundingClientRect();
          const box = el.getBoundingClientRect();
          return box.bottom <= list.bottom + 1 && box.top >= list.top - 1;
        }),
        `${kind}: the newest message is in view`,
      );
      for (let i = 0; i < 20 && (await message(p, 'b-000').count()) === 0; i++) {
        await p.locator('ol.messages').evaluate((el) => (el.scrollTop = 0));
        await p.waitForTimeout(150);
      }
      await message(p, 'b-000').waitFor();
      assert.equal(await p.getByTestId('message').count(), 300, `${kind}: all 300, oldest reached by scrolling up`);
      await p.getByText('Start of the conversation').waitFor();
      await p.context().close();
    }
  });

  test('3: a 1,000-message conversation renders first, marks read in one request, fetches each profile once', async () => {
    const [a, b] = await agents('big-a', 'big-b');
    await connectAgents(b, a);
    for (let i = 0; i < 999; i += 111) {
      await Promise.all(
        Array.from({ length: 111 }, (_, j) =>
          b.mailbox.send({ recipient_id: a.session.agent_id, body: `big-${String(i + j).padStart(4, '0')}`, scope: 'message' }),
        ),
      );
    }
    await b.mailbox.send({ recipient_id: a.session.agent_id, body: 'big-0999 newest', scope: 'message' });
    const p = await h.open();
    await h.signIn(p, a, '#/inbox');
    const requests: string[] = [];
    p.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await p.getByTestId(`conv-${b.session.name}`).getByTestId('unread').waitFor();
    const started = Date.now();
    await p.getByTestId(`conv-${b.session.name}`).click();
    await message(p, 'big-0999 newest').waitFor();
    const ms = Date.now() - started;
    console.log(`1,000-message conversation (signed and sealed): newest messages visible ${ms} ms after the click`);
    await p.getByTestId(`conv-${b.session.name}`).getByTestId('unread').waitFor({ state: 'detached' });
    assert.equal(requests.filter((r) => /^POST \/api\/messages\/.*\/read$/.test(r)).length, 0, 'no per-message read requests');
    assert.equal(requests.filter((r) => r === `POST /api/conversations/${b.session.agent_id}/read`).length, 1, 'one batch mark-read');
    const profiles = requests.filter((r) => r.startsWith('GET /api/agents/') && !r.endsWith('/capabilities'));
    assert.equal(new Set(profiles).size, profiles.length, `each profile fetched once: ${profiles.join(', ')}`);
    assert.ok(requests.length < 30, `${requests.length} requests to open the conversation`);
    const receipts = await b.api.get(`/api/conversations/${a.session.agent_id}?limit=200`);
    assert.ok(receipts.body.messages.every((m: { status: string }) => m.status === 'read'));
  });

  test('4: drafts survive live events from other peers, navigation and reloads, per peer', async () => {
    const [a, b, c] = await plain('draft-a', 'draft-b', 'draft-c');
    await connectAgents(a, b);
    await connectAgents(a, c);
    const p = await h.open();
    await h.signIn(p, a, `#/inbox/${b.session.name}`);
    const body = p.getByLabel('Message', { exact: true });
    await p.getByLabel('Subject').fill('Plans');
    await body.fill('half-written thought');
    await c.api.post('/api/messages', { recipient_id: a.session.agent_id, body: 'ping from c' });
    await p.getByTestId(`conv-${c.session.name}`).getByTestId('unread').waitFor();
    assert.equal(await body.inputValue(), 'half-written thought', 'a live event does not empty the form');
    await p.goto(`${h.t.url}/#/network`);
    await p.goto(`${h.t.url}/#/inbox/${b.session.name}`);
    assert.equal(await p.getByLabel('Message', { exact: true }).inputValue(), 'half-written thought');
    await p.reload();
    assert.equal(await p.getByLabel('Message', { exact: true }).inputValue(), 'half-written thought');
    assert.equal(await p.getByLabel('Subject').inputValue(), 'Plans');
    await p.getByTestId(`conv-${c.session.name}`).click();
    await message(p, 'ping from c').waitFor();
    assert.equal(await p.getByLabel('Message', { exact: true }).inputValue(), '', 'drafts are per peer');
    await p.getByTestId(`conv-${b.session.name}`).click();
    // The click switches the view asynchronously: wait until b's draft is in the form (bounded), then check.
    const draft = p.getByLabel('Message', { exact: true });
    for (let i = 0; i < 50 && (await draft.inputValue()) !== 'half-written thought'; i++) await p.waitForTimeout(100);
    assert.equal(await draft.inputValue(), 'half-written thought');
    await p.getByRole('button', { name: 'Send' }).click();
    await message(p, 'half-written thought').waitFor();
    assert.equal(await p.getByLabel('Message', { exact: true }).inputValue(), '', 'sending clears the draft');
  });

  for (const [kind, viewport] of VIEWPORTS) {
    test(`5 (${kind}): unread badges, conversation order and the Network page update live; badges stay small`, async () => {
      const [a, b, c, d] = await plain('live-a', 'live-b', 'live-c', 'live-d');
      await connectAgents(a, b);
      await connectAgents(a, c);
      await a.api.post('/api/contact-requests', { agent_id: d.session.agent_id });
      const p = await h.open(viewport);
      await h.signIn(p, a, '#/inbox');
      for (let i = 0; i < 3; i++) await b.api.post('/api/messages', { recipient_id: a.session.agent_id, body: `b${i}` });
      const badge = p.getByTestId(`conv-${b.session.name}`).getByTestId('unread');
      await badge.getByText('3').waitFor();
      assert.ok((await badge.boundingBox())!.width < 40, 'a badge is a small pill, not a bar');
      await p.getByTestId('nav-inbox-count').getByText('3').waitFor();
      await c.api.post('/api/messages', { recipient_id: a.session.agent_id, body: 'c now' });
      await p.getByTestId(`conv-${c.session.name}`).getByTestId('unread').waitFor();
      const order = await p.locator('.conversations .conv').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
      assert.deepEqual(order.slice(0, 2), [`conv-${c.session.name}`, `conv-${b.session.name}`], 'newest activity first');

      await p.goto(`${h.t.url}/#/network`);
      const card = p.getByTestId(`peer-${d.session.name}`);
      await card.getByText('Request sent').waitFor();
      const [req] = (await d.api.get('/api/contact-requests?direction=incoming')).body.requests;
      await d.api.post(`/api/contact-requests/${req.id}/approve`, {});
      await card.getByText('Connected').waitFor();
      await p.context().close();
    });

    test(`6 (${kind}): hostile-length names, subjects and keys never widen the page; the header is one row`, async () => {
      const [a] = await agents('wide-a');
      const long = await h.agent(`wide-${uid()}`, { display_name: 'W'.repeat(100) });
      await connectAgents(long, a);
      await long.mailbox.send({ recipient_id: a.session.agent_id, subject: 'S'.repeat(300), body: 'B'.repeat(3000), scope: 'message' });
      const p = await h.open(viewport);
      await h.signIn(p, a, '#/network');
      await p.getByTestId(`peer-${long.session.name}`).waitFor();
      await assertNoHorizontalOverflow(p, `${kind} network`);
      await p.goto(`${h.t.url}/#/inbox`);
      await p.getByTestId(`conv-${long.session.name}`).waitFor();
      await assertNoHorizontalOverflow(p, `${kind} conversations`);
      await p.getByTestId(`conv-${long.session.name}`).click();
      await message(p, 'SSSS').waitFor();
      await assertNoHorizontalOverflow(p, `${kind} thread`);
      await assertAccessible(p, `${kind} thread with hostile lengths`);
      for (const page of ['capabilities', 'settings']) {
        await p.goto(`${h.t.url}/#/${page}`);
        await p.getByRole('heading', { level: 1 }).waitFor();
        await assertNoHorizontalOverflow(p, `${kind} ${page}`);
      }
      const header = await p.locator('header.top').boundingBox();
      assert.ok(header!.height < 60, `${kind}: the header is one row (${header!.height}px)`);
      await p.context().close();
    });

    test(`7 (${kind}): right-to-left overrides are isolated and flagged`, async () => {
      const [a] = await agents('bidi-a');
      const spoof = await h.agent(`bidi-${uid()}`, { display_name: 'Admin\u202Etxt.exe' });
      await connectAgents(spoof, a);
      await spoof.mailbox.send({
        recipient_id: a.session.agent_id,
        subject: 'invoice\u202Efdp.exe',
        body: '\u202Eevil body',
        scope: 'message',
      });
      const p = await h.open(viewport);
      await h.signIn(p, a, '#/network');
      const card = p.getByTestId(`peer-${spoof.session.name}`);
      await card.getByText('⚠ hidden characters').waitFor();
      // The handle after the spoofed name keeps its place and reads left to right.
      const boxes = await card
        .locator('.peer-name')
        .first()
        .evaluate((el) => {
          const name = el.querySelector('.name bdi')!.getBoundingClientRect();
          const handle = el.querySelector('.handle')!.getBoundingClientRect();
          return { nameLeft: name.left, handleLeft: handle.left, sameLine: Math.abs(name.top - handle.top) < 5 };
        });
      if (boxes.sameLine) assert.ok(boxes.handleLeft > boxes.nameLeft, 'the handle stays after the name');
      await p.goto(`${h.t.url}/#/inbox/${spoof.session.name}`);
      const m = message(p, 'evil body');
      await m.waitFor();
      for (const sel of ['.subject', '.body']) {
        assert.equal(await m.locator(sel).evaluate((el) => getComputedStyle(el).unicodeBidi), 'isolate', `${sel} is isolated`);
      }
      await p.locator('.thread-head').getByText('⚠ hidden characters').waitFor();
      await assertAccessible(p, `${kind} bidi`);
      await p.context().close();
    });

    test(`8 (${kind}): a request shows its note and scopes, first, with a badge; revoke asks and then reads right`, async () => {
      const [a, b] = await plain('req-a', 'req-b');
      const others = await plain('req-x', 'req-y', 'req-z');
      for (const o of others) await connectAgents(a, o);
      await b.api.post('/api/contact-requests', {
        agent_id: a.session.agent_id,
        note: 'We met at the meetup — can our agents talk?',
        scopes: ['message', 'scheduling'],
      });
      const p = await h.open(viewport);
      await h.signIn(p, a, '#/network');
      const card = p.getByTestId(`peer-${b.session.name}`);
      await card.getByTestId('request-note').getByText('We met at the meetup').waitFor();
      await card.getByText('message, scheduling').waitFor();
      assert.ok((await card.boundingBox())!.y < viewport.height, 'the request is on the first screen');
      await p.getByTestId('nav-network-count').getByText('1').waitFor();
      await card.getByRole('button', { name: 'Approve' }).click();
      await card.getByText('Connected').waitFor();
      await p.getByTestId('nav-network-count').waitFor({ state: 'detached' });

      p.removeAllListeners('dialog');
      p.once('dialog', (d) => void d.dismiss());
      await card.getByRole('button', { name: 'Revoke' }).click();
      await p.waitForTimeout(200);
      await card.getByText('Connected').waitFor();
      p.once('dialog', (d) => void d.accept());
      await card.getByRole('button', { name: 'Revoke' }).click();
      await card.getByText('They allow you · you do not allow them').waitFor();
      await assertAccessible(p, `${kind} network with requests`);
      await p.context().close();
    });
  }

  test('9: the handle pattern is checked by the browser; the server’s error shows at the field', async () => {
    const p = await h.open(PHONE);
    const registers: string[] = [];
    p.on('request', (r) => r.url().endsWith('/api/register') && registers.push(r.url()));
    const handle = p.getByLabel('Handle');
    await handle.fill('Bad Name!');
    await p.getByRole('button', { name: 'Register' }).click();
    assert.equal(await handle.evaluate((el: HTMLInputElement) => el.validity.patternMismatch), true);
    assert.equal(registers.length, 0, 'the browser refused to submit');
    await handle.fill('good-name-ok');
    assert.equal(await handle.evaluate((el: HTMLInputElement) => el.validity.valid), true);
    const [taken] = await plain('taken');
    await handle.fill(taken.session.name);
    await p.getByRole('button', { name: 'Register' }).click();
    const error = p.locator('#handle-error');
    await error.getByText(/name/).waitFor();
    assert.equal(await handle.getAttribute('aria-invalid'), 'true');
    const [fieldBox, errorBox] = [await handle.boundingBox(), await error.boundingBox()];
    assert.ok(errorBox!.y - fieldBox!.y < 120, 'the error is right below the field');
    assert.equal(await error.evaluate((el) => getComputedStyle(el).color), 'rgb(180, 35, 24)', 'errors are red');
    await assertAccessible(p, 'registration error');
  });

  test('10: keys — encrypted backup restores them; API-key-only sign-in shows sealed messages as unreadable, never verified; sign-out warns; rotations', async () => {
    const p = await h.open();
    const name = `keys-${uid()}`;
    await p.getByLabel('Handle').fill(name);
    await p.getByRole('button', { name: 'Register' }).click();
    await p.getByText('shown once').waitFor();
    const [apiKey, deliverySecret] = await p.getByTestId('secret').allTextContents();
    await p.getByLabel('Backup passphrase').fill('a long passphrase');
    await p.getByLabel('Repeat passphrase').fill('a long passphrase');
    const download = p.waitForEvent('download');
    await p.getByRole('button', { name: 'Download encrypted backup' }).click();
    const backupPath = await (await download).path();
    await p.getByLabel('I stored my API key and delivery secret').check();
    await p.getByRole('button', { name: 'Continue' }).click();
    const me = JSON.parse((await p.evaluate(() => localStorage.getItem('amtp.session')))!);
    const [peer] = await agents('keys-peer');
    await connectAgents(peer, { session: me, api: client(h.t.url, apiKey), mailbox: null as never });
    await peer.mailbox.send({ recipient_id: me.agent_id, body: 'sealed for your eyes', scope: 'message' });

    // Only the API key and delivery secret: sealed content is unreadable here, and says so.
    const bare = await h.open();
    await bare.getByLabel('API key').fill(apiKey!);
    await bare.getByLabel('Delivery secret').fill(deliverySecret!);
    await bare.getByRole('button', { name: 'Sign in' }).click();
    await bare.getByRole('heading', { name: 'Network' }).waitFor();
    await bare.goto(`${h.t.url}/#/inbox/${peer.session.name}`);
    const sealed = bare.getByTestId('message').first();
    await sealed.getByText('sealed to keys this browser does not have').waitFor();
    assert.equal(await sealed.getByText('✓ verified').count(), 0, 'nothing unread is shown as verified');
    await bare.getByText('This browser does not hold your signing key').waitFor();
    assert.equal(await bare.getByRole('button', { name: 'Send' }).count(), 0);
    await bare.getByRole('button', { name: 'Sign out' }).first().click();
    assert.match(bare.dialogs.at(-1)!, /Sign out\?/);

    // The encrypted backup and its passphrase bring the keys back.
    const restored = await h.open();
    await restored.getByLabel('Key backup file').setInputFiles(backupPath);
    await restored.getByLabel('Backup passphrase').fill('wrong passphrase');
    await restored.getByRole('button', { name: 'Sign in' }).click();
    await restored.getByText('Wrong passphrase').waitFor();
    await restored.getByLabel('Backup passphrase').fill('a long passphrase');
    await restored.getByRole('button', { name: 'Sign in' }).click();
    await restored.getByRole('heading', { name: 'Network' }).waitFor();
    await restored.goto(`${h.t.url}/#/inbox/${peer.session.name}`);
    await message(restored, 'sealed for your eyes').getByText('✓ verified').waitFor();

    // Signing out when the keys exist nowhere else warns loudly.
    const fresh = await h.agent(`nobackup-${uid()}`);
    const lonely = await h.open();
    await h.signIn(lonely, { ...fresh.session, backed_up_at: undefined });
    lonely.removeAllListeners('dialog');
    lonely.once('dialog', (d) => (lonely.dialogs.push(d.message()), void d.dismiss()));
    await lonely.getByRole('button', { name: 'Sign out' }).first().click();
    await lonely.waitForTimeout(100);
    assert.match(lonely.dialogs.at(-1) ?? '', /ONLY in this browser/);
    assert.ok(await lonely.evaluate(() => localStorage.getItem('amtp.session')), 'dismissing keeps the keys');

    // Rotations from Settings: a new delivery secret, and new keys with a rotation signed by the old key.
    await restored.goto(`${h.t.url}/#/settings`);
    await restored.getByRole('button', { name: 'Rotate delivery secret' }).click();
    await restored.getByText('New delivery secret, shown once').waitFor();
    const before = (await client(h.t.url).get(`/api/agents/${me.agent_id}`)).body;
    await restored.getByRole('button', { name: 'Publish new keys' }).click();
    await restored.getByTestId('backup-state').getByText('No backup').waitFor();
    const profile = (await client(h.t.url).get(`/api/agents/${me.agent_id}`)).body;
    assert.notEqual(profile.public_key, before.public_key);
    assert.equal(profile.key_rotation?.old_public_key, before.public_key, 'the rotation is signed by the old key');
    assert.equal(readFileSync(backupPath, 'utf8').includes(apiKey!), false);
  });

  test('11: receipts in words, intent names, sealed previews, names in the audit, titles, favicon, compression, sign-out across tabs, skip link and focus', async () => {
    const [a, b] = await agents('small-a', 'small-b');
    await connectAgents(a, b);
    await a.mailbox.send({ recipient_id: b.session.agent_id, body: 'a sealed preview', scope: 'message' });
    const p = await h.open();
    await h.signIn(p, a, `#/inbox/${b.session.name}`);
    await message(p, 'a sealed preview').getByTestId('receipt').getByText('Sent').waitFor();
    await p.getByTestId(`conv-${b.session.name}`).getByText('You: a sealed preview').waitFor();
    assert.match(await p.title(), /^Inbox · agent2agent$/);

    await p.goto(`${h.t.url}/#/network`);
    await p.getByTestId('audit').getByText(b.session.name).first().waitFor();
    assert.equal(await p.getByTestId('audit').getByText(/a2a_/).count(), 0, 'names, not ids');
    assert.match(await p.title(), /Network · agent2agent/);
    assert.equal(await p.evaluate(() => document.activeElement?.tagName), 'H1', 'focus moves to the new page');

    const first = await p.evaluate(
      () => document.querySelector<HTMLElement>('a[href], button, input, select, textarea, [tabindex="0"]')?.textContent,
    );
    assert.equal(first, 'Skip to content', 'the skip link comes first');
    await p.getByRole('link', { name: 'Skip to content' }).focus();
    await p.keyboard.press('Enter');
    assert.equal(await p.evaluate(() => document.activeElement?.tagName), 'H1');

    const favicon = await p.request.get(`${h.t.url}/favicon.ico`);
    assert.equal(favicon.status(), 404, 'no index.html for /favicon.ico');
    assert.equal((await p.request.get(`${h.t.url}/favicon.svg`)).headers()['content-type'], 'image/svg+xml');
    const script = await p.locator('script[type=module]').getAttribute('src');
    const js = await fetch(`${h.t.url}${script}`, { headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(js.headers.get('content-encoding'), 'br');
    const gz = await fetch(`${h.t.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    const raw = await fetch(`${h.t.url}${script}`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(raw.headers.get('content-encoding'), null);
    console.log(
      `web UI script over the wire: ${raw.headers.get('content-length')} bytes raw, ${js.headers.get('content-length')} brotli, ${gz.headers.get('content-length')} gzip`,
    );

    const second = await p.context().newPage();
    await second.goto(`${h.t.url}/#/settings`);
    await second.getByRole('heading', { name: 'Settings' }).waitFor();
    await p.getByRole('button', { name: 'Sign out' }).first().click();
    await second.getByRole('button', { name: 'Register' }).waitFor();
    assert.equal(await second.title(), 'Sign in · agent2agent');
  });

  test('keyboard: j/k move between conversations, r replies, / searches opened messages (sealed included)', async () => {
    const [a, b, c] = await agents('kbd-a', 'kbd-b', 'kbd-c');
    await connectAgents(b, a);
    await connectAgents(c, a);
    await b.mailbox.send({ recipient_id: a.session.agent_id, body: 'the walrus plan', scope: 'message' });
    await c.mailbox.send({ recipient_id: a.session.agent_id, body: 'lunch?', scope: 'message' });
    const p = await h.open();
    await h.signIn(p, a, '#/inbox');
    await p.getByTestId(`conv-${c.session.name}`).waitFor();
    await p.locator('body').press('j');
    await message(p, 'lunch?').waitFor();
    await p.locator('body').press('j');
    await message(p, 'the walrus plan').waitFor();
    await p.locator('body').press('k');
    await message(p, 'lunch?').waitFor();
    await p.locator('body').press('r');
    assert.equal(await p.evaluate(() => document.activeElement?.id), 'compose-body');
    await p.locator('#compose-body').press('Escape');
    await p.locator('h1').click();
    await p.locator('body').press('/');
    await p.keyboard.type('walrus');
    const shown = await p.locator('.conversations .conv').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    assert.deepEqual(shown, [`conv-${b.session.name}`], 'found inside a sealed message opened in this browser');
  });
  test('issue 12: a signed message rewritten as unsigned plaintext shows as failed, never as unsigned', async () => {
    const [a, b] = await agents('strip-a', 'strip-b');
    await connectAgents(a, b);
    await a.mailbox.send({ recipient_id: b.session.agent_id, body: 'the real one', scope: 'message' });
    const { id } = await a.mailbox.send({ recipient_id: b.session.agent_id, body: 'will be replaced', scope: 'message' });
    // Someone with the database strips the signature and swaps in plaintext; the server recomputes a valid MAC.
    await h.t.sql(
      'UPDATE messages SET ed25519_signature = NULL, sig_nonce = NULL, signed_at = NULL, sealed = NULL, body = ? WHERE id = ?',
      'FORGED: pay now',
      id,
    );
    const p = await h.open();
    await h.signIn(p, b, `#/inbox/${a.session.name}`);
    await message(p, 'the real one').getByText('✓ verified').waitFor();
    const forged = message(p, 'FORGED: pay now');
    await forged.getByText('⚠ signature failed').waitFor();
    await forged.getByText(/Do not trust this content/).waitFor();
    assert.equal(await forged.getByText(/unsigned/i).count(), 0, 'never shown as merely unsigned');
  });
});
