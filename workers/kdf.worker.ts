import { expose, transfer } from 'comlink';
import { wipe } from '../lib/bytes';
import { deriveKey } from '../lib/crypto/kdf';
import type { KdfWorkerApi, KdfWorkerResult } from '../lib/crypto/kdf-worker-api';
import { toErrorInfo } from '../lib/errors';

// Argon2id at 64 MiB takes hundreds of milliseconds: it runs here so the page never freezes.
const api: KdfWorkerApi = {
  async derive(passphrase, salt, params): Promise<KdfWorkerResult> {
    try {
      const key = await deriveKey(passphrase, salt, params);
      return transfer({ ok: true, key }, [key.buffer as ArrayBuffer]);
    } catch (err) {
      return { ok: false, error: toErrorInfo(err, 'kdf_failed') };
    } finally {
      wipe(passphrase);
    }
  },
};

expose(api);
