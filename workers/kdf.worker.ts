import { expose, transfer } from 'comlink';
import { wipe } from '../lib/bytes';
import { deriveKeyWithPath } from '../lib/crypto/kdf';
import { DEFAULT_ARGON2ID } from '../lib/crypto/kdf-params';
import type { KdfWorkerApi, KdfWorkerResult } from '../lib/crypto/kdf-worker-api';
import { toErrorInfo } from '../lib/errors';
import { createLaneWorkerPool } from './argon2-lanes';

// Argon2id at 64 MiB takes hundreds of milliseconds: it runs here so the page never freezes. Where this worker is
// cross-origin isolated (the extension's pages) its lanes run on lane workers in parallel; elsewhere here alone.
const lanes = createLaneWorkerPool();
// As many as the default parameters use (4 lanes): a vault with more lanes starts the rest on its first unlock.
lanes?.prestart(DEFAULT_ARGON2ID.algorithm === 'argon2id' ? DEFAULT_ARGON2ID.parallelism : 1);

const api: KdfWorkerApi = {
  async derive(passphrase, salt, params): Promise<KdfWorkerResult> {
    try {
      const { key, path } = await deriveKeyWithPath(passphrase, salt, params, lanes);
      return transfer({ ok: true, key, path }, [key.buffer as ArrayBuffer]);
    } catch (err) {
      return { ok: false, error: toErrorInfo(err, 'kdf_failed') };
    } finally {
      wipe(passphrase);
    }
  },
};

expose(api);
