/**
 * "202 queued" is a promise: a real server process takes sustained sends and is killed with SIGKILL
 * mid-load, several times. Clients retry what was not acknowledged, with the same client_id. Every
 * acknowledged message must then exist exactly once, and its webhook must eventually arrive.
 * AMTP_CRASH_ROUNDS and AMTP_CRASH_PER_ROUND size the run (npm run test:reliability runs it larger).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { client, connect, register } from '../helpers/server.js';
import { freshDatabase, postgresSkip } from '../helpers/postgres.js';
import { startReceiver, waitFor } from '../helpers/receiver.js';
import { CLI } from '../helpers/cli.js';

const ROUNDS = Number(process.env.AMTP_CRASH_ROUNDS ?? 3);
const PER_ROUND = Number(process.env.AMTP_CRASH_PER_ROUND ?? 150);
const LOOPS = 16;

function startServerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    env: {
      ...process.env,
      AMTP_PORT: '0',
      AMTP_LOG_LEVEL: 'error',
      AMTP_RATE_SEND_PER_MINUTE: '0',
      AMTP_RATE_PAIR_PER_MINUTE: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.pipe(process.stderr, { end: false });
  return new Promise((resolve, reject) => {
    let out = '';
    // The banner is on stderr (stdout carries JSON logs only).
    child.stderr.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening`)));
  });
}

async function crashRun(label: string, env: Record<string, string>) {
  const hook = await startReceiver();
  const serverEnv = {
    ...env,
    AMTP_WEBHOOK_ALLOW_LOOPBACK: 'true',
    AMTP_WEBHOOK_ALLOW_HTTP: 'true',
    AMTP_WEBHOOK_LEASE_SECONDS: '2',
    AMTP_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2,0.5,1,1,1,1,1,1',
  };
  let server = await startServerProcess(serverEnv);
  try {
    const [a, b] = [await register(server.url, `crash-a-${label}`), await register(server.url, `crash-b-${label}`)];
    await connect(a, b);
    await b.api.put('/api/me/webhook', { url: hook.url, events: ['message.received'] });

    const acked = new Map<string, string>();
    const unacked = new Set<string>();
    let next = 0;
    const sendOne = async (url: string, cid: string) => {
      const res = await fetch(`${url}/api/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ recipient_id: b.id, body: `m-${cid}`, client_id: cid }),
      });
      if (res.status !== 202) throw new Error(`status ${res.status}`);
      return ((await res.json()) as { id: string }).id;
    };

    for (let round = 0; round < ROUNDS; round++) {
      const target = acked.size + PER_ROUND;
      let killed = false;
      const loop = async () => {
        while (!killed) {
          const cid = `c-${next++}`;
          unacked.add(cid);
          try {
            acked.set(cid, await sendOne(server.url, cid));
            unacked.delete(cid);
          } catch {
            return; // the server died under us: this one stays unacknowledged
          }
          if (acked.size >= target && !killed) {
            killed = true;
            server.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: LOOPS }, loop));
      await new Promise((r) => (server.child.exitCode !== null || server.child.signalCode ? r(null) : server.child.once('exit', r)));
      server = await startServerProcess(serverEnv);
      // Clients retry everything that was not acknowledged, with the same client_id.
      for (const cid of [...unacked]) {
        acked.set(cid, await sendOne(server.url, cid));
        unacked.delete(cid);
      }
    }

    const seen: string[] = [];
    const api = client(server.url, b.key);
    for (let cursor: string | null = null; ;) {
      const page: any = (await api.get(`/api/inbox?limit=200${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...page.messages.map((m: any) => m.client_id));
      if (!(cursor = page.next_cursor)) break;
    }
    const found = new Set(seen);
    const lost = [...acked.keys()].filter((cid) => !found.has(cid)).length;
    const duplicates = seen.length - found.size;
    await waitFor(
      () => new Set(hook.accepted().map((r) => r.headers['webhook-id'])).size >= acked.size,
      `all ${acked.size} webhooks`,
      60_000,
    );
    const webhookIds = new Set(hook.accepted().map((r) => r.headers['webhook-id']));
    console.log(
      `crash test [${label}]: ${ROUNDS} × SIGKILL · acknowledged ${acked.size} · found ${found.size} · duplicates ${duplicates} · lost ${lost} · webhooks delivered ${webhookIds.size} (attempts ${hook.received.length})`,
    );
    assert.equal(lost, 0);
    assert.equal(duplicates, 0);
    assert.equal(found.size, acked.size);
    assert.equal(webhookIds.size, acked.size);
  } finally {
    server.child.kill('SIGKILL');
    await hook.close();
  }
}

describe('crash safety', () => {
  test('SQLite: kill -9 under load loses nothing acknowledged and duplicates nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'amtp-crash-'));
    try {
      await crashRun('sqlite', { AMTP_DATA_DIR: dataDir });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('PostgreSQL: the same', { skip: postgresSkip('crash safety on PostgreSQL') }, async () => {
    const db = await freshDatabase();
    try {
      await crashRun('postgres', { DATABASE_URL: db.url, AMTP_DATA_DIR: mkdtempSync(join(tmpdir(), 'amtp-crash-pg-')) });
    } finally {
      await db.drop();
    }
  });
});
