import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/** Writes .br and .gz next to every text asset (the server picks one by Accept-Encoding) and prints the sizes. */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'amtp-precompress',
    apply: 'build',
    configResolved: (config) => void (outDir = resolve(config.root, config.build.outDir)),
    closeBundle() {
      const files = (dir: string): string[] =>
        readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
      const totals = { raw: 0, gzip: 0, brotli: 0 };
      for (const file of files(outDir).filter((f) => /\.(js|css|html|svg|json)$/.test(f))) {
        const raw = readFileSync(file);
        const gz = gzipSync(raw, { level: 9 });
        const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
        writeFileSync(`${file}.gz`, gz);
        writeFileSync(`${file}.br`, br);
        totals.raw += raw.length;
        totals.gzip += gz.length;
        totals.brotli += br.length;
      }
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
      console.log(`web UI bundle: ${kb(totals.raw)} (${kb(totals.gzip)} gzip, ${kb(totals.brotli)} brotli)`);
    },
  };
}

// The UI is served by the AMTP server itself from web/dist; JSX through esbuild, no plugin needed.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  plugins: [precompress()],
  logLevel: 'warn',
});
