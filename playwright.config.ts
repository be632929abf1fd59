import { defineConfig } from '@playwright/test';

// E2E against the built extension (.output/chrome-mv3) in Debian's Chromium; see test/e2e/fixtures.ts.
// No `projects`/browser downloads: the fixture launches CHROMIUM_PATH (default /usr/bin/chromium) itself.
export default defineConfig({
  testDir: 'test/e2e',
  // Specs are independent (each test launches its own Chromium on a fresh mkdtemp profile; hubs, web servers and
  // simulators listen on port 0), so CI runs two at once on its 2 cores to stay inside the 25-minute budget; a
  // developer's run keeps one (CLAWKEEP_E2E_WORKERS overrides either).
  workers: Math.max(1, Number(process.env.CLAWKEEP_E2E_WORKERS) || (process.env.CI ? 2 : 1)),
  fullyParallel: false,
  // Generous: a cold Chromium launch plus Argon2id at 64 MiB takes seconds on slow CI machines.
  timeout: 90_000,
  expect: { timeout: 15_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: { trace: 'retain-on-failure', actionTimeout: 15_000, navigationTimeout: 30_000 },
});
