/**
 * The soak benchmark (bench/soak.ts, `npm run soak`) for a few seconds, as a test: the same mixed load
 * against a real server process, asserting the correctness counts only — never timings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runSoak } from '../../bench/soak.js';
import { backend } from '../helpers/server.js';
import { freshDatabase, postgresSkip } from '../helpers/postgres.js';

const skip = backend === 'postgres' ? postgresSkip('soak smoke on PostgreSQL') : undefined;

test(
  `soak smoke (${backend}): no 5xx, every SSE event once across reconnects, every webhook event once and signed, resends answered with the original`,
  { skip, timeout: 120_000 },
  async () => {
    const database = backend === 'postgres' ? await freshDatabase() : null;
    const dir = database ? null : mkdtempSync(join(tmpdir(), 'amtp-soak-'));
    const log: string[] = [];
    try {
      const result = await runSoak({
        backend,
        target: database?.url ?? dir!,
        seconds: 15,
        rps: 60,
        intervalSeconds: 5,
        warmupSeconds: 0,
        // More failures than the benchmark's 2 %, so that retries stepping aside surely happen.
        failRate: 0.1,
        env: { AMTP_WEBHOOK_RETRY_SCHEDULE: '0.5,0.5,0.5,0.5,0.5,0.5' },
        log: (line) => log.push(line),
      });
      const c = result.counts;
      assert.equal(c.status5xx, 0, '5xx answers');
      assert.equal(c.unexpected, 0, `unexpected answers or failed requests:\n${log.join('\n')}`);
      assert.ok(c.sseEvents > 0 && c.sseReconnects > 0, `SSE events (${c.sseEvents}) across reconnects (${c.sseReconnects})`);
      assert.equal(c.sseGaps, 0, 'SSE events skipped');
      assert.equal(c.sseRepeats, 0, 'SSE events repeated');
      assert.ok(
        c.webhookExpected > 0 && c.webhookFailedAnswers > 0,
        `webhook events (${c.webhookExpected}), some failed first (${c.webhookFailedAnswers})`,
      );
      assert.equal(c.webhookMissing, 0, 'webhook events never accepted');
      assert.equal(c.webhookRepeats, 0, 'webhook events accepted twice');
      assert.equal(c.webhookBadSignatures, 0, 'webhook signatures that do not verify');
      assert.ok(c.resends > 0, 'idempotent resends made');
      assert.equal(c.resendMismatches, 0, 'resends answered with another id');
      assert.ok(c.keyRotations > 0 && c.consentChanges > 0, 'key rotations and consent changes under load');
      assert.ok(result.samples.length >= 3, 'a sample every interval');
    } finally {
      await database?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  },
);
