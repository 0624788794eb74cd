/** `npm run docs`: regenerates the generated blocks of docs/SPEC.md. */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderSpec } from './reference.js';

const path = new URL('../../docs/SPEC.md', import.meta.url);
writeFileSync(path, renderSpec(readFileSync(path, 'utf8')));
console.log('docs/SPEC.md regenerated');
