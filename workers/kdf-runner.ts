import { transfer, wrap, type Remote } from 'comlink';
import type { KdfRunner } from '../lib/crypto/kdf-runner';
import type { KdfWorkerApi } from '../lib/crypto/kdf-worker-api';
import { reviveError } from '../lib/errors';

/**
 * Starts the KDF worker lazily (first unlock) and reuses it. Pages and the web vault call this; an MV3 service
 * worker cannot start Web Workers, so the background never does.
 */
export function createWorkerKdfRunner(): KdfRunner {
  let remote: Remote<KdfWorkerApi> | null = null;
  return {
    async derive(passphrase, salt, params) {
      remote ??= wrap<KdfWorkerApi>(new Worker(new URL('./kdf.worker.ts', import.meta.url), { type: 'module' }));
      // Transfer the passphrase bytes: the caller's copy is detached, so no plaintext copy stays on this side.
      const result = await remote.derive(transfer(passphrase, [passphrase.buffer as ArrayBuffer]), salt, params);
      if (!result.ok) throw reviveError(result.error);
      return result.key;
    },
  };
}
