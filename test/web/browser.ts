/**
 * Browser-test harness: Debian's Chromium driven by playwright-core against a real server on loopback,
 * with helpers for agents with keys (made here with the SDK, as a browser would), sessions put in a
 * page's storage, axe-core (from npm), and the no-horizontal-overflow check.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AmtpClient } from '../../src/client/client.js';
import { SecureMailbox, type PinnedKeys } from '../../src/client/secure.js';
import { generateEncryptionKeyPair } from '../../src/crypto/seal.js';
import { generateSigningKeyPair } from '../../src/crypto/sign.js';
import { client, startServer, type TestServer } from '../helpers/server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const missing = !existsSync(CHROMIUM);
if (missing) {
  if (process.env.CI === 'true')
    throw new Error(`CI=true: ${CHROMIUM} is required for the browser tests (scripts/ensure-chromium.sh installs it)`);
  console.warn(
    `\n${'!'.repeat(90)}\n!! ${CHROMIUM} not found: the browser tests are SKIPPED (run scripts/ensure-chromium.sh)\n${'!'.repeat(90)}\n`,
  );
}
export const shots = new URL('../../docs/screenshots/', import.meta.url).pathname;
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The session object the web UI keeps in localStorage. */
export interface UiSession {
  agent_id: string;
  name: string;
  api_key: string;
  delivery_secret: string | null;
  signing?: { publicKey: string; secretKey: string };
  encryption?: { publicKey: string; secretKey: string };
  peers: Record<string, PinnedKeys>;
  backed_up_at?: string;
}

export interface Agent {
  session: UiSession;
  api: ReturnType<typeof client>;
  /** The SDK's SecureMailbox with this agent's keys: signs and seals like the browser does. */
  mailbox: SecureMailbox;
}

export interface Harness {
  t: TestServer;
  browser: Browser;
  /** A fresh browser context (own storage) at the given viewport; dialogs are accepted and recorded. */
  open(
    viewport?: { width: number; height: number },
    opts?: { colorScheme?: 'light' | 'dark' },
  ): Promise<Page & { dialogs: string[]; cspViolations: string[] }>;
  /** An agent registered through the API, with keys (default) or without. */
  agent(name: string, opts?: { keys?: boolean; display_name?: string }): Promise<Agent>;
  /** Signs a page in as `agent` by putting its session in storage. */
  signIn(page: Page, agent: Agent | UiSession, hash?: string): Promise<void>;
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const t = await startServer({
    AMTP_RATE_SEND_PER_MINUTE: '100000',
    AMTP_RATE_PAIR_PER_MINUTE: '100000',
    AMTP_RATE_REGISTER_PER_HOUR: '10000',
    AMTP_RATE_REQUESTS_PER_HOUR: '10000',
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const contexts: BrowserContext[] = [];
  return {
    t,
    browser,
    async open(viewport = DESKTOP, opts = {}) {
      const context = await browser.newContext({ viewport, colorScheme: opts.colorScheme ?? 'light', acceptDownloads: true });
      contexts.push(context);
      const page = Object.assign(await context.newPage(), { dialogs: [] as string[], cspViolations: [] as string[] });
      page.on('dialog', (d) => {
        page.dialogs.push(d.message());
        void d.accept();
      });
      page.on('console', (m) => /Content Security Policy|unsafe-eval/i.test(m.text()) && page.cspViolations.push(m.text()));
      await page.goto(t.url);
      return page;
    },
    async agent(name, opts = {}) {
      const signing = opts.keys === false ? undefined : generateSigningKeyPair();
      const encryption = opts.keys === false ? undefined : generateEncryptionKeyPair();
      const res = await client(t.url).post('/api/register', {
        name,
        ...(opts.display_name ? { display_name: opts.display_name } : {}),
        ...(signing ? { public_key: signing.publicKey, encryption_key: encryption!.publicKey } : {}),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const session: UiSession = {
        agent_id: res.body.agent_id,
        name,
        api_key: res.body.api_key,
        delivery_secret: res.body.delivery_secret,
        signing,
        encryption,
        peers: {},
        backed_up_at: new Date().toISOString(),
      };
      const pins = new Map<string, PinnedKeys>();
      const mailbox = new SecureMailbox(
        new AmtpClient({ baseUrl: t.url, apiKey: session.api_key }),
        { ...session, delivery_secret: session.delivery_secret! },
        { get: (id) => pins.get(id), set: (id, k) => void pins.set(id, k) },
      );
      return { session, api: client(t.url, session.api_key), mailbox };
    },
    async signIn(page, who, hash = '#/network') {
      const session = 'session' in who ? who.session : who;
      await page.evaluate((s) => localStorage.setItem('amtp.session', s), JSON.stringify(session));
      await page.goto(`${t.url}/${hash}`);
      await page.reload();
      await page.locator('header.top').waitFor();
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      await t.close();
    },
  };
}

/** Two agents that authorize each other, through the API. */
export async function connectAgents(a: Agent, b: Agent, scopes?: string[]): Promise<void> {
  const req = await a.api.post('/api/contact-requests', { agent_id: b.session.agent_id, ...(scopes ? { scopes } : {}) });
  assert.equal(req.status, 201, JSON.stringify(req.body));
  const ok = await b.api.post(`/api/contact-requests/${req.body.id}/approve`, scopes ? { scopes } : {});
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
}

/** axe-core, injected through the DevTools protocol (not a page script, so the page's CSP stays strict): 0 violations. */
export async function assertAccessible(page: Page, label: string): Promise<void> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; help: string; nodes: { target: unknown[] }[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map(
      (v) =>
        `${v.id}: ${v.help} — ${v.nodes
          .map((n) => JSON.stringify(n.target))
          .slice(0, 3)
          .join(', ')}`,
    );
  });
  assert.deepEqual(violations, [], `axe violations on ${label}`);
}

/** Nothing on the page is wider than the viewport. */
export async function assertNoHorizontalOverflow(page: Page, label: string): Promise<void> {
  const {
    scroll,
    client: width,
    culprits,
  } = await page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const culprits = Array.from(document.querySelectorAll<HTMLElement>('body *'))
      .filter((el) => el.getBoundingClientRect().right > w + 1 && getComputedStyle(el).position !== 'fixed')
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)}px)`);
    return { scroll: document.documentElement.scrollWidth, client: w, culprits };
  });
  assert.ok(scroll <= width, `${label}: page is ${scroll}px wide in a ${width}px viewport; widest: ${culprits.join(', ')}`);
}
