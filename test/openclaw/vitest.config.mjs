// `npm run test:openclaw` only (scripts/test-openclaw.mjs): OpenClaw integration tests against a real gateway.
// Not part of `npm test`'s unit stage (vitest.config.ts includes test/unit only). Two files at a time, one per core
// of CI's 2: each starts its own gateway (fresh temp state dir and HOME, a free loopback port) and spends most of
// its time waiting on it, so two side by side cost little more than one; one at a time no longer fits CI's budget.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    environment: 'node',
    include: ['test/openclaw/**/*.test.{ts,mjs}'],
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
