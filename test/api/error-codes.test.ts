/**
 * Error answers that other suites do not reach. Together with the rest of the suite they cover every
 * code of SPEC §11 (checked after the full run by test/error-codes.final.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, register, startServer } from '../helpers/server.js';

test('an unexpected storage failure is a JSON 500 internal_error that leaks nothing', async () => {
  const t = await startServer();
  try {
    const a = await register(t.url);
    // An operator mistake the code does not anticipate: a table dropped under the running server.
    await t.sql('DROP TABLE capabilities');
    const res = await client(t.url, a.key).get(`/api/agents/${a.id}/capabilities`);
    assert.equal(res.status, 500);
    assert.equal(res.body.error.code, 'internal_error');
    assert.match(res.body.error.message, /retry, and report it/);
    assert.doesNotMatch(JSON.stringify(res.body), /capabilities|no such table|relation|SQL/i);
  } finally {
    await t.close();
  }
});

test('a known REST path with another method is 404 not_found (the REST API has no 405)', async () => {
  const t = await startServer();
  try {
    const res = await client(t.url).call('PATCH', '/api/register', {});
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'not_found');
  } finally {
    await t.close();
  }
});

test('unknown message and thread ids are 404 message_not_found / thread_not_found', async () => {
  const t = await startServer();
  try {
    const a = await register(t.url);
    const msg = await a.api.get(`/api/messages/msg_${'0'.repeat(32)}`);
    const thread = await a.api.get(`/api/threads/thr_${'0'.repeat(32)}`);
    assert.deepEqual([msg.status, msg.body.error.code], [404, 'message_not_found']);
    assert.deepEqual([thread.status, thread.body.error.code], [404, 'thread_not_found']);
  } finally {
    await t.close();
  }
});
