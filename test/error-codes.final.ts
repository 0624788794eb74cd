/**
 * Error-code coverage, run by scripts/test.mjs after the whole suite (both backends), never alone:
 * every test server recorded the error codes it answered with (test/helpers/server.ts,
 * AMTP_ERROR_CODES_DIR). Compared with the error table of docs/SPEC.md §11, in both directions:
 * - a code the server returned that the SPEC does not list is an undocumented answer;
 * - a code the SPEC lists that no test ever saw is either dead (remove it) or untested (test it).
 * Order-independent: the files are only read after every test process has exited.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const dir = process.env.AMTP_ERROR_CODES_DIR;

test(
  'every error code the suite observed is in the SPEC table, and every code in the table was observed',
  { skip: dir ? undefined : 'run by scripts/test.mjs after the full suite' },
  () => {
    const observed = new Set(
      readdirSync(dir!)
        .filter((f) => f.endsWith('.codes'))
        .flatMap((f) => readFileSync(join(dir!, f), 'utf8').split('\n').filter(Boolean)),
    );
    const spec = readFileSync(new URL('../docs/SPEC.md', import.meta.url), 'utf8');
    const table = /<!-- generated:errors -->([\s\S]*?)<!-- \/generated:errors -->/.exec(spec)?.[1] ?? '';
    const documented = new Set([...table.matchAll(/^\| `([a-z_]+)` \| \d{3} \|/gm)].map((m) => m[1]!));
    assert.ok(documented.size > 20, 'the SPEC error table was found');
    assert.deepEqual(
      {
        returned_but_not_in_spec: [...observed].filter((c) => !documented.has(c)).sort(),
        in_spec_but_never_observed: [...documented].filter((c) => !observed.has(c)).sort(),
      },
      { returned_but_not_in_spec: [], in_spec_but_never_observed: [] },
    );
  },
);
