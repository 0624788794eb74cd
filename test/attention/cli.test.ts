/**
 * The `amtp` CLI's attention commands, as a person uses them: `send --reply-by`, `digest`, `ack`
 * (signed with the local key) and `status` (the outcome, with the receipt verified by the sender's
 * client). The CLI is a client of the SDK, so the backend does not change it: it runs on SQLite only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AmtpClient } from '../../src/client/client.js';
import { amtp } from '../helpers/cli.js';
import { backend, startServer, type TestServer } from '../helpers/server.js';

describe(
  'amtp digest, ack, status and send --reply-by',
  { skip: backend === 'postgres' ? 'the CLI is backend-independent: SQLite only' : false },
  () => {
    let t: TestServer;
    const dirs = { a: mkdtempSync(join(tmpdir(), 'amtp-att-a-')), b: mkdtempSync(join(tmpdir(), 'amtp-att-b-')) };
    const as = (who: 'a' | 'b', ...args: string[]) => amtp(args, { AMTP_CONFIG_DIR: dirs[who] });
    const ring = (who: 'a' | 'b') => JSON.parse(readFileSync(join(dirs[who], 'default.json'), 'utf8'));
    before(async () => {
      t = await startServer();
    });
    after(async () => {
      await t.close();
      for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
    });

    test('the recipient triages and acknowledges; the sender sees a verified outcome', async () => {
      const [ra, rb] = await Promise.all([
        as('a', 'register', 'cli-att-a', '--server', t.url),
        as('b', 'register', 'cli-att-b', '--server', t.url),
      ]);
      assert.equal(ra.code, 0, ra.stderr);
      assert.equal(rb.code, 0, rb.stderr);
      // Connecting is not under test here: done with the SDK, with the keys of the profiles the CLI saved.
      const [a, b] = [ring('a'), ring('b')];
      const api = (r: typeof a) => new AmtpClient({ baseUrl: t.url, apiKey: r.api_key });
      await api(b).approve((await api(a).requestContact({ agent_id: b.agent_id })).id);
      const replyBy = new Date(Date.now() + 86_400_000).toISOString();
      const sending = await as('a', 'send', 'cli-att-b', 'sealed report, by tomorrow', '--reply-by', replyBy, '--json');
      assert.equal(sending.code, 0, sending.stderr);
      const sent = JSON.parse(sending.stdout) as { id: string; sealed: boolean };
      assert.equal(sent.sealed, true);

      const digest = await as('b', 'digest');
      assert.equal(digest.code, 0, digest.stderr);
      assert.match(digest.stdout, /^1 unread/);
      assert.match(digest.stdout, /cli-att-a {2}1 unread/);
      assert.match(digest.stdout, /“sealed report, by tomorrow”/, 'the sealed message is opened locally for its snippet');

      const ack = await as('b', 'ack', sent.id, 'done', '--note', 'filed');
      assert.equal(ack.code, 0, ack.stderr);
      assert.match(ack.stdout, /as done \(signed\)/);

      const status = await as('a', 'status', sent.id);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`reply by ${replyBy.replace(/\./g, '\\.')}: pending`));
      assert.match(status.stdout, /processed: done \(“filed”\), receipt verified/);
    });
  },
);
