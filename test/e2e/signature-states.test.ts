/**
 * What clients show for a message's signature (issue 12, findings 4 and 5), through the SDK, the
 * `amtp` CLI and `amtp mcp`: mail signed before a verified key rotation stays `verified`, and a
 * signed message that someone with the database rewrote as unsigned plaintext is `failed`, loudly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { AmtpClient } from '../../src/client/client.js';
import { SecureMailbox, type PinnedKeys } from '../../src/client/secure.js';
import { CLI, amtp } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('signature states after key rotation and after tampering', () => {
  let t: TestServer;
  const dirs = { a: mkdtempSync(join(tmpdir(), 'amtp-sig-a-')), b: mkdtempSync(join(tmpdir(), 'amtp-sig-b-')) };
  const as = (who: 'a' | 'b', ...args: string[]) => amtp(args, { AMTP_CONFIG_DIR: dirs[who] });
  const ring = (who: 'a' | 'b') => JSON.parse(readFileSync(join(dirs[who], 'default.json'), 'utf8'));
  /** B's mailbox as a client with its own keys and a pin store of its own (empty: trust on first use now). */
  const freshMailbox = (warnings: string[]) => {
    const b = ring('b');
    const pins = new Map<string, PinnedKeys>();
    const secure = new SecureMailbox(
      new AmtpClient({ baseUrl: t.url, apiKey: b.api_key }),
      b,
      { get: (id) => pins.get(id), set: (id, k) => pins.set(id, k) },
      { onWarning: (w) => warnings.push(w) },
    );
    return secure;
  };
  let beforeId = '';
  let afterId = '';

  before(async () => {
    t = await startServer();
    assert.equal((await as('a', 'register', 'sig-alice', '--server', t.url)).code, 0);
    assert.equal((await as('b', 'register', 'sig-bob', '--server', t.url)).code, 0);
    assert.equal((await as('a', 'request', 'sig-bob')).code, 0);
    assert.equal((await as('b', 'approve', JSON.parse((await as('b', 'requests', '--incoming', '--json')).stdout)[0].id)).code, 0);
  });
  after(async () => {
    await t.close();
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  });

  test('mail signed before a verified rotation still verifies, for a pinned peer and on first use', async () => {
    beforeId = JSON.parse((await as('a', 'send', 'sig-bob', 'signed with the first key', '--json')).stdout).id;
    const first = await as('b', 'inbox');
    assert.match(first.stdout, /signature: verified/, 'B pins the first key');
    assert.equal((await as('a', 'keys', 'rotate')).code, 0);
    afterId = JSON.parse((await as('a', 'send', 'sig-bob', 'signed with the second key', '--json')).stdout).id;

    const all = await as('b', 'inbox');
    assert.equal(all.code, 0, all.stderr);
    assert.equal((all.stdout.match(/signature: verified/g) ?? []).length, 2, all.stdout);
    assert.doesNotMatch(all.stdout, /signature: failed/);
    assert.doesNotMatch(all.stderr, /WARNING/);

    const warnings: string[] = [];
    const secure = freshMailbox(warnings);
    const { messages } = await secure.inbox({ limit: 10 });
    assert.deepEqual(
      messages.map((m) => [m.id, secure.signatureOf(m)]).sort(),
      [
        [beforeId, 'verified'],
        [afterId, 'verified'],
      ].sort(),
      'the chain comes with the first pin',
    );
    assert.deepEqual(warnings, []);
  });

  test('a signed message rewritten as unsigned plaintext shows as failed, with a warning, in the SDK, the CLI and amtp mcp', async () => {
    // The operator (or anyone with the database) strips the signature and swaps in plaintext.
    await t.sql(
      'UPDATE messages SET ed25519_signature = NULL, sig_nonce = NULL, signed_at = NULL, sealed = NULL, body = ?, read_at = NULL WHERE id = ?',
      'FORGED: wire 10,000 EUR today',
      afterId,
    );

    const warnings: string[] = [];
    const secure = freshMailbox(warnings);
    const forged = await secure.message(afterId);
    assert.equal(forged.body, 'FORGED: wire 10,000 EUR today');
    assert.equal(secure.signatureOf(forged), 'failed');
    assert.ok(
      warnings.some((w) => /WARNING: message .* carries no signature/.test(w)),
      warnings.join('\n'),
    );
    assert.equal(secure.signatureOf(await secure.message(beforeId)), 'verified', 'the untouched one is still fine');

    const cli = await as('b', 'inbox');
    assert.match(cli.stdout, new RegExp(`${afterId}.*signature: failed`));
    assert.match(cli.stderr, /WARNING: message .* carries no signature/);

    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...CLI, 'mcp'],
      env: { ...(process.env as Record<string, string>), AMTP_CONFIG_DIR: dirs.b },
    });
    const mcp = new Client({ name: 'signature-states', version: '1' });
    await mcp.connect(transport);
    try {
      await mcp.listTools();
      const result = (await mcp.callTool({ name: 'a2a_check_inbox', arguments: { limit: 10 } })) as { content: { text: string }[] };
      const text = result.content.map((c) => c.text).join('\n');
      assert.match(text, new RegExp(`signature: failed · ${afterId}`));
      assert.match(text, /WARNING: this message FAILED its signature check/);
    } finally {
      await mcp.close();
    }
  });
});
