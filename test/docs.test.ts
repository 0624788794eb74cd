import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderSpec } from '../scripts/docs/reference.js';
import { routes } from '../src/http/routes.js';
import { ERRORS } from '../src/protocol/errors.js';

const spec = readFileSync(new URL('../docs/SPEC.md', import.meta.url), 'utf8');

test('docs/SPEC.md reference blocks match the code (run `npm run docs` after changing routes, schemas or errors)', () => {
  assert.equal(spec, renderSpec(spec));
});

test('docs/SPEC.md documents every endpoint and every error code', () => {
  for (const r of routes) assert.ok(spec.includes(`\`${r.method} ${r.url}\``), `${r.method} ${r.url}`);
  for (const code of Object.keys(ERRORS)) assert.ok(spec.includes(`\`${code}\``), code);
});
