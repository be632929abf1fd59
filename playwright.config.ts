import { defineConfig } from '@playwright/test';

// E2E against the built extension (.output/chrome-mv3) in Debian's Chromium; see test/e2e/fixtures.ts.
// No `projects`/browser downloads: the fixture launches CHROMIUM_PATH (default /usr/bin/chromium) itself.
export default defineConfig({
  testDir: 'test/e2e',
  // One persistent Chromium profile at a time by default: a 2-core box. Specs are independent (each test launches
  // its own Chromium on a fresh mkdtemp profile; hubs, web servers and simulators listen on port 0), so
  // CLAWKEEP_E2E_WORKERS=2 runs two at once; not the default until measured stable on an idle CI machine.
  workers: Math.max(1, Number(process.env.CLAWKEEP_E2E_WORKERS) || 1),
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
