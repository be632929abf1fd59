import type { ClawkeepErrorCode } from '../errors';
import type { KdfParams } from './kdf-params';

/** What a KDF worker answers: errors travel as data because comlink drops custom error fields. */
export type KdfWorkerResult =
  { ok: true; key: Uint8Array } | { ok: false; error: { code: ClawkeepErrorCode; message: string } };

/** The comlink API exposed by workers/kdf.worker.ts. */
export interface KdfWorkerApi {
  derive(passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<KdfWorkerResult>;
}
