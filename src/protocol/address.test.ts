import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domainOf, formatAddress, normalizeDomain, parseAddress } from './address.js';

test('addresses: handle@domain with an optional port, in lower case; anything else is not one', () => {
  assert.deepEqual(parseAddress('Alice@Mail.Example.org'), { handle: 'alice', domain: 'mail.example.org' });
  assert.deepEqual(parseAddress('bob-2@127.0.0.1:18001'), { handle: 'bob-2', domain: '127.0.0.1:18001' });
  assert.deepEqual(parseAddress('carol@[::1]:8443'), { handle: 'carol', domain: '[::1]:8443' });
  for (const text of [
    'alice',
    'a2a_0123456789abcdef0123456789abcdef',
    '@example.org',
    'al@example.org',
    'alice@',
    'alice@exa mple.org',
    'alice@example.org:0',
    'alice@example.org:70000',
    'alice@-bad.org',
    'ali ce@example.org',
  ]) {
    assert.equal(parseAddress(text), null, text);
  }
  assert.equal(normalizeDomain('Example.ORG:0443'), 'example.org:443');
  assert.equal(formatAddress('alice', 'example.org'), 'alice@example.org');
});

test('a server’s domain is its public URL’s host, with the port only when it is not the default', () => {
  assert.equal(domainOf('https://mail.example.org'), 'mail.example.org');
  assert.equal(domainOf('https://mail.example.org:443/'), 'mail.example.org');
  assert.equal(domainOf('https://Mail.Example.org:8443'), 'mail.example.org:8443');
  assert.equal(domainOf('http://127.0.0.1:18001'), '127.0.0.1:18001');
});
