/**
 * The web UI in a real browser (Debian's Chromium driven by playwright-core): two agents in two
 * browser contexts go through request → approve → sealed message → reply → read receipt → revoke →
 * send refused, and a hostile message body renders inert. Screenshots of each page go to
 * docs/screenshots/ (embedded in the README).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { client, startServer, type TestServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
if (missing) {
  if (process.env.CI === 'true') throw new Error(`CI=true: ${CHROMIUM} is required for the browser tests (scripts/ensure-chromium.sh installs it)`);
  console.warn(`\n${'!'.repeat(90)}\n!! ${CHROMIUM} not found: the browser tests are SKIPPED (run scripts/ensure-chromium.sh)\n${'!'.repeat(90)}\n`);
}
const shots = new URL('../../docs/screenshots/', import.meta.url).pathname;

describe('web UI', { skip: missing && 'Chromium missing' }, () => {
  let t: TestServer;
  let browser: Browser;
  before(async () => {
    t = await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    mkdirSync(shots, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  const page = async (width = 1100) => {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    const p = await context.newPage();
    p.on('dialog', (d) => void d.accept());
    await p.goto(t.url);
    return p;
  };
  const registerIn = async (p: Page, name: string) => {
    await p.getByLabel('Handle').fill(name);
    await p.getByRole('button', { name: 'Register' }).click();
    await p.getByText('shown once').waitFor();
    const key = await p.getByTestId('secret').textContent();
    assert.match(key ?? '', /^a2a_sk_/);
    await p.getByRole('button', { name: /I stored my key/ }).click();
    await p.getByRole('heading', { name: 'Network' }).waitFor();
    return key!;
  };

  test('request → approve → sealed message → reply → read receipt → revoke → send refused; hostile content inert', async () => {
    const alice = await page();
    await alice.screenshot({ path: `${shots}sign-in.png` });
    const aliceKey = await registerIn(alice, 'ui-alice');
    const bob = await page();
    await registerIn(bob, 'ui-bob');
    const stored = await alice.evaluate(() => localStorage.getItem('amtp.session'));
    assert.match(stored ?? '', /"secretKey"/, 'private keys live in the browser');

    await alice.getByLabel('Agent').fill('ui-bob');
    await alice.getByLabel('Note').fill('API review?');
    await alice.getByRole('button', { name: 'Request contact' }).click();
    await alice.getByText('Request to ui-bob: pending.').waitFor();

    await bob.reload();
    await bob.getByTestId('peer-ui-alice').getByRole('button', { name: 'Approve' }).click();
    await bob.getByTestId('peer-ui-alice').getByText('Mutual').waitFor();
    await bob.screenshot({ path: `${shots}network.png`, fullPage: true });

    await alice.goto(`${t.url}/#/inbox`);
    await alice.getByRole('button', { name: /ui-bob/ }).click();
    await alice.getByLabel('Message', { exact: true }).fill('thursday 2pm work for the API review?');
    await alice.getByRole('button', { name: 'Send' }).click();
    await alice.getByTestId('message').filter({ hasText: 'thursday 2pm' }).waitFor();

    // The server holds only ciphertext: the body was sealed in Alice's browser.
    const raw = await client(t.url, aliceKey).get('/api/outbox');
    assert.equal(raw.body.messages[0].body, null);
    assert.equal(raw.body.messages[0].sealed.alg, 'x25519-xchacha20poly1305');

    await bob.goto(`${t.url}/#/inbox`);
    await bob.getByTestId('conv-ui-alice').click();
    const received = bob.getByTestId('message').filter({ hasText: 'thursday 2pm' });
    await received.waitFor();
    await received.getByText('✓ verified').waitFor();
    await received.getByText('sealed', { exact: true }).waitFor();
    await bob.getByLabel('Message', { exact: true }).fill('thursday 2pm is booked. friday 10am?');
    await bob.getByRole('button', { name: 'Send' }).click();
    await bob.getByTestId('message').filter({ hasText: 'friday 10am' }).waitFor();
    await bob.screenshot({ path: `${shots}inbox.png`, fullPage: true });

    await alice.reload();
    await alice.getByRole('button', { name: /ui-bob/ }).click();
    await alice.getByTestId('message').filter({ hasText: 'friday 10am' }).waitFor();
    await alice.getByTestId('message').filter({ hasText: 'thursday 2pm' }).getByTestId('receipt').getByText('read').waitFor();

    // A hostile body (sent through the API) renders as inert text.
    const hostile = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"><button>Approve</button>';
    await client(t.url, aliceKey).post('/api/messages', { recipient_id: 'ui-bob', body: 'placeholder' }).catch(() => undefined);
    const evilKey = aliceKey;
    const sendPlain = await client(t.url, evilKey).post('/api/messages', { recipient_id: 'ui-bob', body: hostile });
    assert.equal(sendPlain.status, 400, 'Alice publishes a signing key, so unsigned API sends are refused');
    await alice.getByLabel('Message', { exact: true }).fill(hostile);
    await alice.getByRole('button', { name: 'Send' }).click();
    await bob.reload();
    await bob.getByTestId('conv-ui-alice').click();
    const evil = bob.getByTestId('message').filter({ hasText: '<script>window.__pwned=1</script>' });
    await evil.waitFor();
    assert.equal(await bob.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await evil.locator('script, img, button').count(), 0);

    await bob.goto(`${t.url}/#/network`);
    await bob.getByTestId('peer-ui-alice').getByRole('button', { name: 'Revoke' }).click();
    await bob.getByTestId('peer-ui-alice').getByText('Authorized me').waitFor();

    await alice.reload();
    await alice.getByRole('button', { name: /ui-bob/ }).click();
    await alice.getByText(/You can message ui-bob again once you both authorize each other/).waitFor();
    const refused = await client(t.url, aliceKey).post('/api/messages', { recipient_id: 'ui-bob', body: 'still there?' });
    assert.equal(refused.status, 403);

    await alice.goto(`${t.url}/#/capabilities`);
    await alice.getByRole('button', { name: '+ scheduling' }).click();
    await alice.getByRole('button', { name: 'Publish' }).click();
    await alice.getByText('Published 1 capabilities.').waitFor();
    await alice.screenshot({ path: `${shots}capabilities.png`, fullPage: true });
    await alice.goto(`${t.url}/#/settings`);
    await alice.getByRole('heading', { name: 'Webhook' }).waitFor();
    await alice.screenshot({ path: `${shots}settings.png`, fullPage: true });

    const phone = await page(390);
    await phone.evaluate((s) => localStorage.setItem('amtp.session', s!), stored);
    await phone.reload();
    await phone.getByRole('heading', { name: 'Network' }).waitFor();
    await phone.screenshot({ path: `${shots}network-phone.png`, fullPage: true });
  });
});
