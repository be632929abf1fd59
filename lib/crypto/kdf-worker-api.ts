import type { ClawkeepErrorCode } from '../errors';
import type { KdfPath } from './kdf';
import type { KdfParams } from './kdf-params';

/**
 * What a KDF worker answers: errors travel as data because comlink drops custom error fields. `path` says whether
 * Argon2id's lanes ran on parallel lane workers or on the KDF worker alone (issue 17: "say which path ran").
 */
export type KdfWorkerResult =
  { ok: true; key: Uint8Array; path: KdfPath } | { ok: false; error: { code: ClawkeepErrorCode; message: string } };

/** The comlink API exposed by workers/kdf.worker.ts. */
export interface KdfWorkerApi {
  derive(passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<KdfWorkerResult>;
}
