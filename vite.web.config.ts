import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// Builds the standalone web vault: web/index.html (+ web/main.tsx) -> dist/web, served by `clawkeep web`.
// Vite's root is web/, but the vault also imports lib/, components/ and workers/ from the repo root.
const repoRoot = fileURLToPath(new URL('.', import.meta.url));
const webRoot = fileURLToPath(new URL('./web', import.meta.url));

export default defineConfig({
  root: webRoot,
  // Relative asset URLs, so dist/web works from any path (and the KDF worker URL resolves next to its chunk).
  base: './',
  plugins: [preact()],
  // Builds for users never honour a test trust anchor in the TDX verifier (lib/attest/trust-anchor.ts).
  define: { __CLAWKEEP_TEST_ANCHORS__: 'false' },
  // The same aliases WXT gives the extension in .wxt/tsconfig.json, so shared code resolves the same way here.
  resolve: {
    alias: [
      { find: /^@@\//, replacement: repoRoot },
      { find: /^~~\//, replacement: repoRoot },
      { find: /^@\//, replacement: repoRoot },
      { find: /^~\//, replacement: repoRoot },
    ],
  },
  // web/public (if it exists) is copied as-is; the extension's public/ is not the vault's.
  publicDir: 'public',
  // workers/kdf-runner.ts starts `new Worker(new URL('../workers/kdf.worker.ts', import.meta.url), { type: 'module' })`.
  worker: { format: 'es' },
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    // outDir is outside root, so Vite would refuse to clear it without this.
    emptyOutDir: true,
    target: 'es2022',
  },
  // Dev server (`vite -c vite.web.config.ts`): allow files outside web/ and stay on loopback. strictPort: a taken port
  // is an error, not a silent move to the next one (issue 13 item 15, like `npm start`).
  server: { host: '127.0.0.1', strictPort: true, fs: { allow: [repoRoot] } },
  preview: { host: '127.0.0.1', strictPort: true },
});
