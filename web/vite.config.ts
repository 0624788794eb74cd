import { defineConfig } from 'vite';

// The UI is served by the AMTP server itself from web/dist; JSX through esbuild, no plugin needed.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  logLevel: 'warn',
});
