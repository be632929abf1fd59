import { describe, expect, it } from 'vitest';
import { warmWhileLocked, type WorkerKdfRunner } from '../../../workers/kdf-runner';

/** A runner that counts how often it was asked to start its worker (the worker itself is a browser's). */
function countingRunner(): WorkerKdfRunner & { warmed: number } {
  return {
    warmed: 0,
    warm() {
      this.warmed++;
    },
    derive: () => Promise.reject(new Error('not used here')),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('warmWhileLocked', () => {
  it('starts the KDF worker when the vault is locked or not created yet', async () => {
    for (const state of ['locked', 'uninitialized']) {
      const runner = countingRunner();
      warmWhileLocked(runner, async () => ({ state }));
      await settle();
      expect(runner.warmed).toBe(1);
    }
  });

  it('starts nothing for an unlocked vault, or when the status cannot be read', async () => {
    const unlocked = countingRunner();
    warmWhileLocked(unlocked, async () => ({ state: 'unlocked' }));
    const failing = countingRunner();
    warmWhileLocked(failing, () => Promise.reject(new Error('background asleep')));
    await settle();
    expect(unlocked.warmed).toBe(0);
    expect(failing.warmed).toBe(0);
  });
});
