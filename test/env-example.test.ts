import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../src/config.js';

const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');

test('.env.example documents every setting the server reads, and its values load', () => {
  const read = [...source.matchAll(/^\s+((?:AMTP|DATABASE)_[A-Z_]+):/gm)].map((m) => m[1]!);
  assert.ok(read.length > 10);
  for (const name of read) assert.match(example, new RegExp(`^#? ?${name}=`, 'm'), `${name} missing from .env.example`);
  const values = Object.fromEntries([...example.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const config = loadConfig(values);
  assert.equal(config.port, 8787);
  assert.equal(config.registration, 'open');
});

test('no environment at all gives a working default configuration', () => {
  const config = loadConfig({});
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.durability, 'full');
  assert.equal(config.databaseUrl, null);
  assert.throws(() => loadConfig({ AMTP_PORT: 'eighty' }), /AMTP_PORT/);
});
