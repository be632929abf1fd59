// `npm run test:openclaw` only (scripts/test-openclaw.mjs): OpenClaw integration tests against a real gateway.
// Not part of `npm test` (vitest.config.ts includes test/unit only). One file at a time: each starts a gateway.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    environment: 'node',
    include: ['test/openclaw/**/*.test.{ts,mjs}'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
