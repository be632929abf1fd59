// @vitest-environment node
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('lib/crypto/argon2/argon2-wasm.ts', () => {
  it('is what scripts/build-argon2-wasm.mjs makes of argon2.wat today (byte for byte)', () => {
    // --check exits 1 (execFileSync throws) when the committed base64 differs from a fresh wabt build of the .wat.
    const out = execFileSync(process.execPath, ['scripts/build-argon2-wasm.mjs', '--check']).toString();
    expect(out).toMatch(/matches argon2\.wat/);
  });
});
