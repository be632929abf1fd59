import { transfer, wrap, type Remote } from 'comlink';
import type { KdfRunner } from '../lib/crypto/kdf-runner';
import type { KdfWorkerApi } from '../lib/crypto/kdf-worker-api';
import { reviveError } from '../lib/errors';

/** A KDF runner on the page's KDF worker, which it can start before the first derivation. */
export interface WorkerKdfRunner extends KdfRunner {
  /** Starts the worker (and with it, where the page is isolated, its Argon2id lane workers) now. Idempotent. */
  warm(): void;
}

/**
 * Starts the KDF worker at the first derivation, or earlier with `warm()`, and reuses it. Pages and the web vault
 * call this; an MV3 service worker cannot start Web Workers, so the background never does.
 */
export function createWorkerKdfRunner(): WorkerKdfRunner {
  let remote: Remote<KdfWorkerApi> | null = null;
  const start = (): Remote<KdfWorkerApi> =>
    (remote ??= wrap<KdfWorkerApi>(new Worker(new URL('./kdf.worker.ts', import.meta.url), { type: 'module' })));
  return {
    warm() {
      start();
    },
    async derive(passphrase, salt, params) {
      // Transfer the passphrase bytes: the caller's copy is detached, so no plaintext copy stays on this side.
      const result = await start().derive(transfer(passphrase, [passphrase.buffer as ArrayBuffer]), salt, params);
      if (!result.ok) throw reviveError(result.error);
      return result.key;
    },
  };
}

/**
 * Starts the KDF worker as soon as the page learns that its vault is locked or not created yet, so the Argon2id lane
 * workers are up by the time the passphrase is submitted. A new worker's first derivation runs on one thread while
 * its lanes start (lib/crypto/argon2/parallel.ts), about three times slower (docs/performance.md), and the popup
 * is a new page, with a new worker, every time it opens. An unlocked vault starts nothing.
 */
export function warmWhileLocked(runner: WorkerKdfRunner, status: () => Promise<{ state: string }>): void {
  status().then(
    (s) => {
      if (s.state !== 'unlocked') runner.warm();
    },
    () => {
      // No status, no guess: the first derivation starts the worker as before.
    },
  );
}
