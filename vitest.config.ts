import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

// Unit tests only; e2e runs under Playwright (playwright.config.ts). A file can opt into Node with
// `// @vitest-environment node` (e.g. test/unit/cli/).
export default defineConfig({
  plugins: [WxtVitest()],
  // Unit tests may inject a test root into the TDX verifier (lib/attest/trust-anchor.ts); builds for users may not.
  define: { __CLAWKEEP_TEST_ANCHORS__: 'true' },
  test: {
    environment: 'happy-dom',
    setupFiles: ['fake-indexeddb/auto'],
    include: ['test/unit/**/*.test.{ts,tsx}'],
    // One worker per core. Vitest's default for `run` is one fewer than the cores, which on the 2-core CI machine
    // is a single worker: the whole suite ran one file at a time while a core idled. Files do not share state
    // (each runs in its own forked process; servers listen on port 0, data goes to fresh temp directories).
    maxWorkers: availableParallelism(),
  },
});
