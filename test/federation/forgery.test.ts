/**
 * Server-to-server authentication (SPEC §19.4). This test process is a third server, "forger", with
 * its own domain and published key; it pretends to be A and tampers with requests in every way the
 * issue lists. B and A are real servers on loopback. Then the policy modes: allowlist and off.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { contentDigest, signRequest } from '../../src/crypto/http-signature.js';
import { signMessage, generateSigningKeyPair } from '../../src/crypto/sign.js';
import { toBase64Url } from '../../src/crypto/encoding.js';
import { register, startServer, type TestAgent, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/receiver.js';
import { freePort } from './nodes.js';
import type { ServerAuditRecord } from '../../src/store/types.js';

const COVERED = ['@method', '@target-uri', 'content-digest', 'content-type', 'amtp-origin'];

async function federatingServer(env: Record<string, string> = {}, options: { backend?: 'sqlite' } = {}): Promise<TestServer> {
  const port = await freePort();
  return startServer(
    {
      AMTP_PORT: String(port),
      AMTP_PUBLIC_URL: `http://127.0.0.1:${port}`,
      AMTP_FEDERATION_ALLOW_HTTP: 'true',
      AMTP_FEDERATION_ALLOW_LOOPBACK: 'true',
      AMTP_FEDERATION_RETRY_SCHEDULE: '0.2,0.2',
      ...env,
    },
    options,
  );
}

/** A server of the test's own: publishes a key at its /.well-known/amtp, accepts whatever is relayed to it. */
async function startForger() {
  const secret = ed25519.utils.randomSecretKey();
  const port = await freePort();
  const domain = `127.0.0.1:${port}`;
  const received: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/.well-known/amtp') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            federation: {
              domain,
              endpoint: `http://${domain}/federation/v1`,
              keys: [{ kid: 'forger-1', alg: 'ed25519', public_key: toBase64Url(ed25519.getPublicKey(secret)) }],
            },
          }),
        );
        return;
      }
      received.push(JSON.parse(body || 'null'));
      res.statusCode = 202;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { domain, secret, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface Forgery {
  origin?: string;
  key?: Uint8Array;
  keyid?: string;
  created?: number;
  nonce?: string;
  /** The body sent, when it differs from the body signed. */
  sentBody?: string;
}

/** Signs `envelope` as a federation request to `target` (SPEC §19.4), with the given forgeries. */
function signed(target: TestServer, path: string, envelope: unknown, secret: Uint8Array, domain: string, f: Forgery = {}) {
  const body = JSON.stringify(envelope);
  const url = `${target.url}/federation/v1/${path}`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-digest': contentDigest(body),
    'amtp-origin': f.origin ?? domain,
  };
  const created = f.created ?? Math.floor(Date.now() / 1000);
  const params = {
    created,
    expires: created + 300,
    nonce: f.nonce ?? toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
    alg: 'ed25519',
    keyid: f.keyid ?? 'forger-1',
  };
  const all = { ...headers, ...signRequest({ method: 'POST', url, headers }, COVERED, params, f.key ?? secret, 'amtp') };
  return () =>
    fetch(url, { method: 'POST', headers: all, body: f.sentBody ?? body }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { error?: { code: string } },
    }));
}

describe('federation: forged requests are refused in every variant', () => {
  let A: TestServer;
  let B: TestServer;
  let forger: Awaited<ReturnType<typeof startForger>>;
  let carol: TestAgent;
  let domainB: string;
  const mallory = generateSigningKeyPair();
  before(async () => {
    [A, B, forger] = await Promise.all([federatingServer(), federatingServer(), startForger()]);
    domainB = new URL(B.url).host;
    [, carol] = await Promise.all([register(B.url, 'forge-bob'), register(B.url, 'forge-carol')]);
  });
  after(async () => {
    await Promise.all([A?.close(), B?.close(), forger?.close()]);
  });

  const request = (to: string, from = `mallory@${forger.domain}`) => ({
    v: 1,
    id: `evt_${Date.now()}`,
    type: 'contact_request',
    from,
    to: `${to}@${domainB}`,
    profile: { address: from, display_name: null, public_key: mallory.publicKey, encryption_key: null },
    scopes: ['message'],
  });
  const inbox = (envelope: unknown, f: Forgery = {}) => signed(B, 'inbox', envelope, forger.secret, forger.domain, f)();

  test('a correctly signed request from the forger’s own domain, for its own agent, is accepted (the baseline)', async () => {
    const res = await inbox(request('forge-carol'));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const incoming = (await carol.api.get('/api/contact-requests?direction=incoming')).body.requests;
    assert.equal(incoming[0].from_name, `mallory@${forger.domain}`);
  });

  test('a wrong key: signed with a key the origin does not publish', async () => {
    const res = await inbox(request('forge-bob'), { key: ed25519.utils.randomSecretKey() });
    assert.equal(res.status, 401);
    assert.equal(res.body.error!.code, 'federation_unauthenticated');
  });

  test('a key fetched from a different domain than the claimed origin: claims to be A, signs with the forger’s published key', async () => {
    const res = await inbox(request('forge-bob', `alice@${new URL(A.url).host}`), { origin: new URL(A.url).host });
    assert.equal(res.status, 401);
    assert.equal(res.body.error!.code, 'federation_unauthenticated');
  });

  test('a stale created', async () => {
    const res = await inbox(request('forge-bob'), { created: Math.floor(Date.now() / 1000) - 600 });
    assert.equal(res.status, 401);
    assert.equal(res.body.error!.code, 'federation_stale');
  });

  test('a replayed nonce', async () => {
    const send = signed(B, 'inbox', { ...request('forge-bob'), type: 'authorization.revoked' }, forger.secret, forger.domain);
    assert.equal((await send()).status, 202);
    const replay = await send();
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error!.code, 'federation_replayed');
  });

  test('a body that does not match its digest', async () => {
    const res = await inbox(request('forge-bob'), { sentBody: JSON.stringify({ ...request('forge-bob'), note: 'changed in transit' }) });
    assert.equal(res.status, 400);
    assert.equal(res.body.error!.code, 'federation_digest_mismatch');
  });

  test('a sender address outside the origin domain', async () => {
    const res = await inbox(request('forge-bob', `alice@${new URL(A.url).host}`));
    assert.equal(res.status, 403);
    assert.equal(res.body.error!.code, 'federation_origin_mismatch');
  });

  test('a re-addressed message: signed (amtp-sig-2) by mallory for bob, relayed to carol', async () => {
    // carol approves mallory (requested in the baseline test), so only the signature can stop it.
    const pending = (await carol.api.get('/api/contact-requests?direction=incoming')).body.requests[0];
    assert.equal((await carol.api.post(`/api/contact-requests/${pending.id}/approve`, {})).status, 200);
    await waitFor(
      () => forger.received.some((e) => (e as { type?: string }).type === 'contact_request.approved'),
      'the approval relayed to the forger',
    );
    const from = `mallory@${forger.domain}`;
    const fields = {
      sender_id: '',
      recipient_id: '',
      sender_address: from,
      recipient_address: `forge-bob@${domainB}`,
      scope: 'message',
      body: 'for bob only',
    };
    const sig = signMessage(fields, mallory.secretKey);
    const message = {
      id: `msg_${'0'.repeat(20)}${Date.now().toString(16).padStart(12, '0')}`,
      scope: 'message',
      body: 'for bob only',
      ...sig,
    };
    const readdressed = await inbox({ v: 1, id: 'evt_x', type: 'message', from, to: `forge-carol@${domainB}`, message });
    assert.equal(readdressed.status, 400);
    assert.equal(readdressed.body.error!.code, 'invalid_signature');
    // The same bytes signed for carol are accepted: what was refused is the re-addressing.
    const honest = signMessage({ ...fields, recipient_address: `forge-carol@${domainB}` }, mallory.secretKey);
    const ok = await inbox({ v: 1, id: 'evt_y', type: 'message', from, to: `forge-carol@${domainB}`, message: { ...message, ...honest } });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.equal((await carol.api.get('/api/inbox')).body.messages[0].body, 'for bob only');
  });
});

describe('federation policy', () => {
  test('every change of federation policy is recorded in the server audit log (and a restart without one is not)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'amtp-fed-policy-'));
    const port = String(await freePort());
    const policies = async (env: Record<string, string>, expected: number) => {
      // SQLite in both passes: the restarts must find the same data directory.
      const server = await federatingServer(
        { AMTP_DATA_DIR: dataDir, AMTP_PORT: port, AMTP_PUBLIC_URL: `http://127.0.0.1:${port}`, ...env },
        { backend: 'sqlite' },
      );
      try {
        const entries = await waitFor(async () => {
          const found = (await server.server.core.admin.auditLog()).entries.filter((e) => e.action === 'federation.policy');
          return found.length === expected && found;
        }, `${expected} policy entries`);
        return (entries as ServerAuditRecord[]).at(-1)!.details;
      } finally {
        await server.close();
      }
    };
    try {
      assert.equal((await policies({}, 1)).mode, 'open');
      assert.deepEqual(await policies({ AMTP_FEDERATION: 'allowlist', AMTP_FEDERATION_ALLOWLIST: 'mail.example.org' }, 2), {
        mode: 'allowlist',
        domain: `127.0.0.1:${port}`,
        allowlist: ['mail.example.org'],
        blocklist: [],
      });
      await policies({ AMTP_FEDERATION: 'allowlist', AMTP_FEDERATION_ALLOWLIST: 'mail.example.org' }, 2);
      assert.equal((await policies({ AMTP_FEDERATION: 'off' }, 3)).mode, 'off');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('contact requests are rate-limited per origin domain, before anything is stored; a malformed envelope is a 400', async () => {
    const forger = await startForger();
    const server = await federatingServer({ AMTP_FEDERATION_REQUESTS_PER_HOUR: '1' });
    try {
      await Promise.all([register(server.url, 'limit-hana'), register(server.url, 'limit-ivan')]);
      const domain = new URL(server.url).host;
      const envelope = (to: string, from: string) => ({
        v: 1,
        id: `evt_${from}`,
        type: 'contact_request',
        from: `${from}@${forger.domain}`,
        to: `${to}@${domain}`,
        profile: { address: `${from}@${forger.domain}`, display_name: null, public_key: null, encryption_key: null },
      });
      assert.equal((await signed(server, 'inbox', envelope('limit-hana', 'mallory'), forger.secret, forger.domain)()).status, 202);
      const second = await signed(server, 'inbox', envelope('limit-ivan', 'trudy'), forger.secret, forger.domain)();
      assert.equal(second.status, 429);
      assert.equal(second.body.error!.code, 'rate_limited');
      assert.equal(
        (await server.sql('SELECT name FROM agents WHERE name LIKE ?', `trudy@%`)).length,
        0,
        'no mirror for the refused request',
      );
      const malformed = await signed(
        server,
        'inbox',
        { v: 1, type: 'message', from: `x@${forger.domain}` },
        forger.secret,
        forger.domain,
      )();
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error!.code, 'invalid_request');
    } finally {
      await Promise.all([server.close(), forger.close()]);
    }
  });

  test('delegation: addresses at one domain, whose /.well-known/amtp names a server on another host', async () => {
    const [domainPort, serverPort] = [await freePort(), await freePort()];
    const delegated = await federatingServer({
      AMTP_PORT: String(serverPort),
      AMTP_PUBLIC_URL: `http://127.0.0.1:${serverPort}`,
      AMTP_FEDERATION_DOMAIN: `127.0.0.1:${domainPort}`,
    });
    // The domain's web server serves only the well-known document, a copy of the delegated server's.
    const site = createServer((req, res) => {
      if (req.url !== '/.well-known/amtp') return void res.writeHead(404).end();
      void fetch(`${delegated.url}/.well-known/amtp`).then(async (r) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(await r.text()),
      );
    });
    await new Promise<void>((resolve) => site.listen(domainPort, '127.0.0.1', resolve));
    const other = await federatingServer();
    try {
      const [dan, erin] = await Promise.all([register(delegated.url, 'deleg-dan'), register(other.url, 'deleg-erin')]);
      const asked = await erin.api.post('/api/contact-requests', { agent_id: `deleg-dan@127.0.0.1:${domainPort}` });
      assert.equal(asked.status, 201, JSON.stringify(asked.body));
      const incoming = await waitFor(
        async () => (await dan.api.get('/api/contact-requests?direction=incoming')).body.requests[0],
        'the request at the delegated server',
      );
      assert.equal(incoming.from_name, `deleg-erin@${new URL(other.url).host}`);
      assert.equal((await dan.api.post(`/api/contact-requests/${incoming.id}/approve`, {})).status, 200);
      await waitFor(
        async () => (await erin.api.get('/api/peers')).body.peers.some((p: { state: string }) => p.state === 'mutual'),
        'the approval, signed by the delegated server',
      );
      assert.equal((await dan.api.get('/api/me')).body.address, `deleg-dan@127.0.0.1:${domainPort}`);
    } finally {
      await Promise.all([delegated.close(), other.close(), new Promise<void>((resolve) => site.close(() => resolve()))]);
    }
  });

  test('a server that cannot be reached: federation_unavailable, to retry later', async () => {
    const server = await federatingServer();
    try {
      const gus = await register(server.url, 'policy-gus');
      const res = await gus.api.post('/api/contact-requests', { agent_id: `someone@127.0.0.1:${await freePort()}` });
      assert.equal(res.status, 502);
      assert.equal(res.body.error.code, 'federation_unavailable');
    } finally {
      await server.close();
    }
  });

  test('allowlist: an unlisted server is refused, both ways; off: no federation at all, with a clear answer', async () => {
    const forger = await startForger();
    const [listed, off] = await Promise.all([federatingServer(), federatingServer({ AMTP_FEDERATION: 'off' })]);
    try {
      const allowOnly = await federatingServer({ AMTP_FEDERATION: 'allowlist', AMTP_FEDERATION_ALLOWLIST: new URL(listed.url).host });
      try {
        const dan = await register(allowOnly.url, 'policy-dan');
        const from = `mallory@${forger.domain}`;
        const envelope = {
          v: 1,
          id: 'evt_p',
          type: 'contact_request',
          from,
          to: `policy-dan@${new URL(allowOnly.url).host}`,
          profile: { address: from, display_name: null, public_key: null, encryption_key: null },
        };
        const refused = await signed(allowOnly, 'inbox', envelope, forger.secret, forger.domain)();
        assert.equal(refused.status, 403);
        assert.equal(refused.body.error!.code, 'federation_refused');
        const out = await dan.api.post('/api/contact-requests', { agent_id: `someone@${forger.domain}` });
        assert.equal(out.status, 403);
        assert.equal(out.body.error.code, 'federation_refused');
        await register(listed.url, 'policy-erin');
        assert.equal((await dan.api.post('/api/contact-requests', { agent_id: `policy-erin@${new URL(listed.url).host}` })).status, 201);
      } finally {
        await allowOnly.close();
      }

      const doc = await (await fetch(`${off.url}/.well-known/amtp`)).json();
      assert.equal(doc.federation, undefined);
      const fay = await register(off.url, 'policy-fay');
      const outOff = await fay.api.post('/api/contact-requests', { agent_id: `someone@${forger.domain}` });
      assert.equal(outOff.status, 403);
      assert.match(outOff.body.error.message, /federation policy: off/);
      const inOff = await signed(off, 'inbox', { v: 1 }, forger.secret, forger.domain)();
      assert.equal(inOff.status, 403);
      assert.equal(inOff.body.error!.code, 'federation_refused');
    } finally {
      await Promise.all([listed.close(), off.close(), forger.close()]);
    }
  });
});
