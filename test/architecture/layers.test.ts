/**
 * The layering of src/ as docs/ARCHITECTURE.md states it ("Layers, lowest first: …"): a folder may
 * import its own files and folders below it, never one above; the storage backends never import each
 * other. A layer is a folder of src/ or, like `app` (src/app.ts, the composition root), a file directly
 * in it; other files there (config.ts) belong to no layer. The order is read from the document, so the
 * test and the page cannot drift apart.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';

const root = resolve(new URL('../..', import.meta.url).pathname);
const src = join(root, 'src');

function layersFromArchitecture(): string[] {
  const page = readFileSync(join(root, 'docs/ARCHITECTURE.md'), 'utf8');
  const line = /Layers, lowest first: (.+)/.exec(page)?.[1];
  assert.ok(line, 'docs/ARCHITECTURE.md states the layers ("Layers, lowest first: …")');
  return [...line.matchAll(/`([a-z]+)`/g)].map((m) => m[1]!);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `store/postgres/x.ts` → ['store', 'postgres']; files directly in src/ have no folder. */
const folders = (file: string) => relative(src, dirname(file)).split(sep).filter(Boolean);

/** The layer a module is in and its sub-folder: its folder, or for a file directly in src/ its name when that is a layer. */
function layerOf(module: string, rank: Map<string, number>): [layer?: string, sub?: string] {
  const [folder, sub] = folders(module);
  if (folder) return [folder, sub];
  const name = basename(module).replace(/\.[jt]s$/, '');
  return rank.has(name) ? [name] : [];
}

test('no folder of src/ imports a folder above it in the documented layering; backends never import each other', () => {
  const layers = layersFromArchitecture();
  const rank = new Map(layers.map((name, i) => [name, i]));
  const present = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory() || (n.endsWith('.ts') && rank.has(n.slice(0, -3))));
  assert.deepEqual(
    present.map((n) => n.replace(/\.ts$/, '')).sort(),
    [...layers].sort(),
    'every folder of src/ has its place in the layering, and every layer exists',
  );
  const violations: string[] = [];
  let imports = 0;
  for (const file of sourceFiles(src)) {
    const [from, fromSub] = layerOf(file, rank);
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)) {
      imports++;
      const [to, toSub] = layerOf(resolve(dirname(file), m[1]!), rank);
      if (!from || !to || from === to) {
        if (from === 'store' && to === 'store' && fromSub && toSub && fromSub !== toSub)
          violations.push(`${relative(root, file)} → ${m[1]} (one backend imports another)`);
        continue;
      }
      if (rank.get(to)! > rank.get(from)!) violations.push(`${relative(root, file)} (${from}) → ${m[1]} (${to}, a layer above)`);
    }
  }
  assert.ok(imports > 100, `read the imports (${imports})`);
  assert.deepEqual(violations, []);
});
