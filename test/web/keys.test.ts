/**
 * Private keys at rest in the web UI (issue 17): after registration the keys are non-extractable
 * WebCrypto keys in IndexedDB, no private key byte is left in localStorage, exportKey refuses, and
 * signing and sealed reading still work end to end between two browsers — across a reload and a key
 * rotation signed with the old CryptoKey. Where the browser lacks Ed25519/X25519 in WebCrypto, the
 * keys stay in local storage and Settings says so. Real Chromium, production CSP, real server.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { client } from '../helpers/server.js';
import { connectAgents, harness, missing, type Agent, type Harness } from './browser.js';

const PASSPHRASE = 'correct horse battery';
let n = 0;
const uid = () => `${process.pid % 10000}-${++n}`;

/** Opens the downloaded backup as a user would with the passphrase: the raw private keys, to look for. */
async function backupSecrets(path: string): Promise<string[]> {
  const backup = JSON.parse(readFileSync(path, 'utf8'));
  const bytes = (b64: string) => Uint8Array.from(Buffer.from(b64, 'base64'));
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(PASSPHRASE), 'PBKDF2', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: bytes(backup.kdf.salt), iterations: backup.kdf.iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['decrypt'],
  );
  const plain = JSON.parse(
    new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes(backup.cipher.iv) }, key, bytes(backup.ciphertext))),
  );
  const secrets = [plain.signing.secretKey, plain.encryption.secretKey] as string[];
  // The same bytes in the other spellings a script might find them in.
  return secrets.flatMap((s) => [
    s,
    Buffer.from(s, 'base64url').toString('base64').replace(/=+$/, ''),
    Buffer.from(s, 'base64url').toString('hex'),
  ]);
}

/** Registration through the form, with the required backup; returns the API key and the backup file's path. */
async function register(p: Page, name: string): Promise<{ apiKey: string; backupPath: string }> {
  await p.getByLabel('Handle').fill(name);
  await p.getByRole('button', { name: 'Register' }).click();
  await p.getByText('shown once').waitFor();
  const [apiKey] = await p.getByTestId('secret').allTextContents();
  await p.getByLabel('Backup passphrase').fill(PASSPHRASE);
  await p.getByLabel('Repeat passphrase').fill(PASSPHRASE);
  const download = p.waitForEvent('download');
  await p.getByRole('button', { name: 'Download encrypted backup' }).click();
  const backupPath = await (await download).path();
  await p.getByLabel('I stored my API key and delivery secret').check();
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.getByRole('heading', { name: 'Network' }).waitFor();
  return { apiKey: apiKey!, backupPath };
}

/** Everything this page's scripts could read from localStorage. */
const localStorageText = (p: Page) =>
  p.evaluate(() =>
    Object.keys(localStorage)
      .map((k) => `${k}=${localStorage.getItem(k)}`)
      .join('\n'),
  );

/** The stored CryptoKeys, as a script on the page sees them — and whether exportKey gives them up. */
const storedKeys = (p: Page) =>
  p.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('amtp.keys');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('IndexedDB could not be opened'));
    });
    if (!db.objectStoreNames.contains('keys')) return [];
    const rows = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
      const all = db.transaction('keys').objectStore('keys').getAll();
      all.onsuccess = () => resolve(all.result);
      all.onerror = () => reject(all.error ?? new Error('IndexedDB read failed'));
    });
    db.close();
    // No named helper functions in here: the test runner's transpiler would wrap them in a helper the page lacks.
    const described: Record<string, unknown>[] = [];
    for (const row of rows) {
      const out: Record<string, unknown> = {};
      for (const role of ['signing', 'encryption']) {
        const key = row[role] as CryptoKey;
        const exports: string[] = [];
        for (const f of ['jwk', 'pkcs8', 'raw'] as const)
          exports.push(
            await crypto.subtle.exportKey(f, key).then(
              () => `${f}: exported`,
              () => `${f}: refused`,
            ),
          );
        out[role] = {
          isCryptoKey: key instanceof CryptoKey,
          type: key.type,
          algorithm: key.algorithm.name,
          extractable: key.extractable,
          exports,
        };
      }
      described.push(out);
    }
    return described as { signing: { extractable: boolean } }[];
  });

const asAgent = (h: Harness, session: Agent['session'], apiKey: string): Agent => ({
  session,
  api: client(h.t.url, apiKey),
  mailbox: null as never,
});
const sessionOf = async (p: Page) => JSON.parse((await p.evaluate(() => localStorage.getItem('amtp.session')))!);

describe('web UI: private keys at rest', { skip: missing && 'Chromium missing' }, () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h?.close());

  test('non-extractable WebCrypto keys in IndexedDB, nothing in localStorage; signed and sealed mail still works, after a reload and a rotation', async () => {
    const [aliceName, bobName] = [`ka-${uid()}`, `kb-${uid()}`];
    const alice = await h.open();
    const a = await register(alice, aliceName);
    const bob = await h.open();
    const b = await register(bob, bobName);

    for (const [p, who] of [
      [alice, a],
      [bob, b],
    ] as const) {
      const secrets = await backupSecrets(who.backupPath);
      const stored = await localStorageText(p);
      assert.doesNotMatch(stored, /secretKey/);
      for (const s of secrets) assert.equal(stored.includes(s), false, 'no private key bytes in localStorage');
      assert.deepEqual(await storedKeys(p), [
        {
          signing: {
            isCryptoKey: true,
            type: 'private',
            algorithm: 'Ed25519',
            extractable: false,
            exports: ['jwk: refused', 'pkcs8: refused', 'raw: refused'],
          },
          encryption: {
            isCryptoKey: true,
            type: 'private',
            algorithm: 'X25519',
            extractable: false,
            exports: ['jwk: refused', 'pkcs8: refused', 'raw: refused'],
          },
        },
      ]);
    }
    await alice.goto(`${h.t.url}/#/settings`);
    await alice.getByTestId('key-storage').getByText('non-extractable WebCrypto keys').waitFor();
    assert.equal(
      await alice.getByRole('button', { name: 'Download encrypted backup' }).count(),
      0,
      'keys that cannot be read out are not offered for a new backup',
    );

    const aliceSession = await sessionOf(alice);
    const bobSession = await sessionOf(bob);
    await connectAgents(asAgent(h, aliceSession, a.apiKey), asAgent(h, bobSession, b.apiKey));

    // Alice signs and seals with her CryptoKeys; Bob verifies and opens with his.
    await alice.goto(`${h.t.url}/#/inbox/${bobName}`);
    await alice.getByLabel('Message', { exact: true }).fill('sealed by a key no script can read');
    await alice.getByRole('button', { name: 'Send' }).click();
    await alice.getByTestId('message').filter({ hasText: 'sealed by a key no script can read' }).waitFor();
    const raw = (await client(h.t.url, a.apiKey).get('/api/outbox')).body.messages[0];
    assert.equal(raw.body, null, 'the server holds only ciphertext');
    assert.equal(raw.sealed.alg, 'x25519-xchacha20poly1305');
    assert.ok(raw.ed25519_signature);

    await bob.goto(`${h.t.url}/#/inbox/${aliceName}`);
    const received = bob.getByTestId('message').filter({ hasText: 'sealed by a key no script can read' });
    await received.getByText('✓ verified').waitFor();
    await received.locator('.badge.sealed').waitFor();
    await bob.getByLabel('Message', { exact: true }).fill('opened, and signed back');
    await bob.getByRole('button', { name: 'Send' }).click();

    // After a reload the keys come back from IndexedDB: Alice reads Bob's sealed reply, verified.
    await alice.reload();
    await alice.getByTestId('message').filter({ hasText: 'opened, and signed back' }).getByText('✓ verified').waitFor();
    await alice.getByTestId('message').filter({ hasText: 'sealed by a key no script can read' }).waitFor();

    // Rotation: the statement is signed with the old CryptoKey; the new keys move out of reach after their backup.
    const before = (await client(h.t.url).get(`/api/agents/${aliceSession.agent_id}`)).body;
    await alice.goto(`${h.t.url}/#/settings`);
    await alice.getByRole('button', { name: 'Publish new keys' }).click();
    await alice.getByTestId('backup-state').getByText('No backup').waitFor();
    const after = (await client(h.t.url).get(`/api/agents/${aliceSession.agent_id}`)).body;
    assert.notEqual(after.public_key, before.public_key);
    assert.equal(after.key_rotation?.old_public_key, before.public_key, 'the rotation is signed by the old (non-extractable) key');
    await alice.getByTestId('key-storage').getByText('until you save the backup').waitFor();
    await alice.getByLabel('Backup passphrase').fill(PASSPHRASE);
    await alice.getByLabel('Repeat passphrase').fill(PASSPHRASE);
    const download = alice.waitForEvent('download');
    await alice.getByRole('button', { name: 'Download encrypted backup' }).click();
    const secrets = await backupSecrets(await (await download).path());
    await alice.getByTestId('key-storage').getByText('non-extractable WebCrypto keys').waitFor();
    const stored = await localStorageText(alice);
    for (const s of secrets) assert.equal(stored.includes(s), false, 'the rotated keys left localStorage after their backup');
    assert.equal((await storedKeys(alice))[0]?.signing.extractable, false);

    // Bob follows the signed rotation, and mail sealed to Alice's new key opens with her new CryptoKey.
    await bob.reload();
    await bob.getByLabel('Message', { exact: true }).fill('to your new key');
    await bob.getByRole('button', { name: 'Send' }).click();
    await alice.goto(`${h.t.url}/#/inbox/${bobName}`);
    await alice.getByTestId('message').filter({ hasText: 'to your new key' }).getByText('✓ verified').waitFor();

    // Signing out erases the stored keys too.
    await alice.getByRole('button', { name: 'Sign out' }).first().click();
    await alice.getByRole('button', { name: 'Register' }).waitFor();
    await alice.waitForFunction(async () => {
      const db = await new Promise<IDBDatabase>((resolve) => {
        const open = indexedDB.open('amtp.keys');
        open.onsuccess = () => resolve(open.result);
      });
      const count = await new Promise<number>((resolve) => {
        const c = db.transaction('keys').objectStore('keys').count();
        c.onsuccess = () => resolve(c.result);
      });
      db.close();
      return count === 0;
    });
  });

  test('where WebCrypto lacks Ed25519/X25519, the keys stay in local storage, Settings says so, and mail still works', async () => {
    const old = await h.open();
    // A browser without these algorithms: importing such keys fails, as it does there.
    await old.context().addInitScript(() => {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with its own `this` below
      const importKey = SubtleCrypto.prototype.importKey;
      SubtleCrypto.prototype.importKey = function (this: SubtleCrypto, ...args: Parameters<SubtleCrypto['importKey']>) {
        const alg = args[2] as { name?: string } | string;
        const name = typeof alg === 'string' ? alg : alg.name;
        if (name === 'Ed25519' || name === 'X25519') return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
        return importKey.apply(this, args);
      } as SubtleCrypto['importKey'];
    });
    await old.reload();
    const name = `kold-${uid()}`;
    const { apiKey, backupPath } = await register(old, name);
    const secrets = await backupSecrets(backupPath);
    assert.ok((await localStorageText(old)).includes(secrets[0]!), 'the fallback keeps today’s storage');
    await old.goto(`${h.t.url}/#/settings`);
    await old
      .getByTestId('key-storage')
      .getByText('readable by scripts on this page: this browser cannot keep Ed25519 and X25519 keys non-extractable')
      .waitFor();

    const [peer] = await Promise.all([h.agent(`kpeer-${uid()}`)]);
    const me = await sessionOf(old);
    await connectAgents(peer, asAgent(h, me, apiKey));
    await peer.mailbox.send({ recipient_id: me.agent_id, body: 'sealed to a browser without WebCrypto keys', scope: 'message' });
    await old.goto(`${h.t.url}/#/inbox/${peer.session.name}`);
    await old.getByTestId('message').filter({ hasText: 'sealed to a browser without WebCrypto keys' }).getByText('✓ verified').waitFor();
  });
});
