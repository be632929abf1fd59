import type { KdfParams } from './kdf-params';

/**
 * Runs a KDF off the UI thread. Implemented by the comlink worker client in `workers/`; in Node and unit tests
 * `deriveKey` from `./kdf` can be called directly.
 * The passphrase buffer is transferred to the worker and the caller's copy is detached (so nothing to wipe).
 */
export interface KdfRunner {
  derive(passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array>;
}
