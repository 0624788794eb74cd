/** Abuse limits: contact requests per key and per source address, and the connection cap. */
import assert from 'node:assert/strict';
import { connect as tcp } from 'node:net';
import { test } from 'node:test';
import { register, startServer } from '../helpers/server.js';

test('contact requests are limited per key and per source address', async () => {
  const t = await startServer({ AMTP_RATE_REQUESTS_PER_HOUR: '2' });
  try {
    const targets = await Promise.all(Array.from({ length: 12 }, () => register(t.url)));
    const a = await register(t.url);
    assert.equal((await a.api.post('/api/contact-requests', { agent_id: targets[0]!.id })).status, 201);
    assert.equal((await a.api.post('/api/contact-requests', { agent_id: targets[1]!.id })).status, 201);
    const perKey = await a.api.post('/api/contact-requests', { agent_id: targets[2]!.id });
    assert.equal(perKey.status, 429);
    assert.equal(perKey.body.error.code, 'rate_limited');
    // Fresh agents from the same address share the address budget (5 × the per-key rate).
    let refused = 0;
    for (let i = 0; i < 5; i++) {
      const fresh = await register(t.url);
      for (const target of targets.slice(3, 5))
        if ((await fresh.api.post('/api/contact-requests', { agent_id: target.id })).status === 429) refused++;
    }
    assert.ok(refused > 0, 'the per-address limit refused some requests');
  } finally {
    await t.close();
  }
});

test('connections beyond the cap are closed at once (header caps: see fuzz.test.ts)', async () => {
  const t = await startServer({ AMTP_MAX_CONNECTIONS: '2' });
  try {
    const { port } = new URL(t.url);
    const sockets: import('node:net').Socket[] = [];
    const open = () =>
      new Promise<{ closed: Promise<void> }>((resolve) => {
        const socket = tcp(Number(port), '127.0.0.1', () => resolve({ closed: new Promise((r) => socket.once('close', () => r())) }));
        socket.on('error', () => undefined);
        sockets.push(socket);
      });
    await open();
    await open();
    const third = await open();
    await third.closed; // the server drops the connection over the cap
    for (const s of sockets) s.destroy();
  } finally {
    await t.close();
  }
});
