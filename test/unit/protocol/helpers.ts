import { expect } from 'vitest';

/** Runs `fn` and insists it throws an error carrying `code` (what callers branch on). */
export async function expectCode(fn: () => unknown, code: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    expect((err as { code?: string }).code, (err as Error).message).toBe(code);
    return;
  }
  throw new Error(`expected a ${code} error`);
}

/** Every single-bit flip of `bytes` (capped at `max` positions spread over the whole buffer). */
export function* bitFlips(bytes: Uint8Array, max = 64): Generator<Uint8Array> {
  const step = Math.max(1, Math.floor((bytes.length * 8) / max));
  for (let bit = 0; bit < bytes.length * 8; bit += step) {
    const copy = bytes.slice();
    copy[bit >> 3]! ^= 1 << (bit & 7);
    yield copy;
  }
}
