// The Firefox ESR runs (test/firefox/): the built Firefox add-on in Debian's firefox-esr, driven over WebDriver BiDi
// by puppeteer-core. `npm test` runs them in their own stage (scripts/test.mjs); vitest.config.ts (unit) excludes them.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    environment: 'node',
    include: ['test/firefox/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    // A cold Firefox start plus the hub: seconds on a loaded 2-core CI box.
    hookTimeout: 120_000,
  },
});
