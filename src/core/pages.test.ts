/** Cursor handling alone: pages read with one extra row, opaque cursors, and refusing cursors this server did not hand out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AmtpError } from '../protocol/errors.js';
import { pageOf, parseCursor } from './pages.js';

const rows = (...seqs: number[]) => seqs.map((seq) => ({ seq, id: `r${seq}` }));

test('a page of `limit` rows; the extra row only says that another page follows', () => {
  const { page, next_cursor } = pageOf(rows(4, 7, 9), 2);
  assert.deepEqual(page, rows(4, 7));
  assert.equal(typeof next_cursor, 'string');
  assert.equal(parseCursor(next_cursor!), 7, 'the cursor stands for the last row handed out');
});

test('the last page has no next_cursor', () => {
  assert.deepEqual(pageOf(rows(4, 7), 2), { page: rows(4, 7), next_cursor: null });
  assert.deepEqual(pageOf(rows(4), 2), { page: rows(4), next_cursor: null });
  assert.deepEqual(pageOf([], 2), { page: [], next_cursor: null });
});

test('cursors are URL-safe (base64url) and round-trip every sequence number', () => {
  for (const seq of [0, 1, 41, 2 ** 40, 999_999_999_999_999]) {
    const { next_cursor } = pageOf(rows(seq, seq + 1), 1);
    assert.match(next_cursor!, /^[A-Za-z0-9_-]+$/);
    assert.equal(parseCursor(next_cursor!), seq);
  }
});

test('no cursor means the first page', () => {
  assert.equal(parseCursor(undefined), undefined);
});

test('a cursor this server did not hand out is a 400 invalid_request that says what to use', () => {
  const forged = (text: string) => Buffer.from(text).toString('base64url');
  for (const cursor of [
    'garbage',
    '',
    forged('s:'),
    forged('s:-1'),
    forged('s:1.5'),
    forged('x:12'),
    forged('s:12 '),
    forged(`s:${'9'.repeat(16)}`),
  ]) {
    assert.throws(
      () => parseCursor(cursor),
      (error: unknown) =>
        error instanceof AmtpError && error.code === 'invalid_request' && error.status === 400 && /next_cursor/.test(error.message),
      `cursor ${JSON.stringify(cursor)}`,
    );
  }
});
