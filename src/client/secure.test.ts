import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keysValidAt, ROTATION_GRACE_MS, type PinnedKeys } from './secure.js';

const pin: PinnedKeys = {
  public_key: 'k3',
  encryption_key: null,
  since: '2026-03-01T00:00:00.000Z',
  previous: [
    { public_key: 'k1', until: '2026-01-01T00:00:00.000Z' },
    { public_key: 'k2', since: '2026-01-01T00:00:00.000Z', until: '2026-03-01T00:00:00.000Z' },
  ],
};
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

test('a message is checked against the keys valid when it was signed, newest first', () => {
  assert.deepEqual(keysValidAt(pin, '2025-06-01T00:00:00.000Z'), ['k1'], 'before any rotation: the first key');
  assert.deepEqual(keysValidAt(pin, '2026-02-01T00:00:00.000Z'), ['k2']);
  assert.deepEqual(keysValidAt(pin, '2026-04-01T00:00:00.000Z'), ['k3']);
  assert.deepEqual(keysValidAt(pin, '2026-03-01T00:00:00.000Z'), ['k3', 'k2'], 'at the rotation instant both');
});

test('the old key covers a grace period after the rotation, and not beyond', () => {
  assert.deepEqual(keysValidAt(pin, plus('2026-03-01T00:00:00.000Z', ROTATION_GRACE_MS - 1)), ['k3', 'k2']);
  assert.deepEqual(keysValidAt(pin, plus('2026-03-01T00:00:00.000Z', ROTATION_GRACE_MS + 1)), ['k3']);
  assert.deepEqual(keysValidAt(pin, plus('2026-03-01T00:00:00.000Z', -1)), ['k2'], 'the new key is not valid before its rotation');
});

test('a key pinned on first use is valid from the start', () => {
  assert.deepEqual(keysValidAt({ public_key: 'only', encryption_key: null }, '2000-01-01T00:00:00.000Z'), ['only']);
  assert.deepEqual(keysValidAt({ public_key: null, encryption_key: 'x' }, '2026-01-01T00:00:00.000Z'), []);
});
