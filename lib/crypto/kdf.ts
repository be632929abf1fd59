import { ClawkeepError } from '../errors';
import { argon2id, type Argon2Path, type LaneWorkerPool } from './argon2';
import { assertKdfParams, KEY_LENGTH, type KdfParams } from './kdf-params';

/**
 * Which path derived a key: Argon2id's lanes on several workers over shared memory ('parallel'), or everything on
 * one thread ('single': Argon2id without threads, and PBKDF2, which is one WebCrypto call).
 */
export type KdfPath = Argon2Path;

/**
 * Derives a 256-bit key-encryption key from a passphrase, and says which path ran.
 *
 * Argon2id is our own WebAssembly fill (lib/crypto/argon2: RFC 9106 v0x13, 128-bit SIMD); given a pool of lane
 * workers (workers/kdf.worker.ts in a cross-origin-isolated extension page) it fills the lanes in parallel, otherwise
 * on this thread, with the same bytes either way. PBKDF2-HMAC-SHA256 runs in WebCrypto so the browser's native code
 * does the work. Parameters are checked against floors and ceilings first, so a tampered header cannot weaken or
 * stall the derivation. Call this off the UI thread (see workers/kdf.worker.ts).
 *
 * @throws KdfParamsError when parameters are out of range; ClawkeepError('kdf_failed') when the engine fails
 *   (e.g. the browser cannot allocate the requested memory, or a lane worker dies).
 */
export async function deriveKeyWithPath(
  passphrase: Uint8Array,
  salt: Uint8Array,
  params: KdfParams,
  lanes?: LaneWorkerPool,
): Promise<{ key: Uint8Array; path: KdfPath }> {
  assertKdfParams(params);
  if (salt.length < 16 || salt.length > 64) throw new RangeError('salt must be 16..64 bytes');
  try {
    if (params.algorithm === 'argon2id') {
      const { tag, path } = await argon2id(
        {
          password: passphrase,
          salt,
          iterations: params.iterations,
          memoryKiB: params.memoryKiB,
          parallelism: params.parallelism,
          tagLength: KEY_LENGTH,
        },
        lanes,
      );
      return { key: tag, path };
    }
    return { key: await pbkdf2Sha256(passphrase, salt, params.iterations, KEY_LENGTH), path: 'single' };
  } catch (err) {
    throw new ClawkeepError('kdf_failed', 'Key derivation failed on this device (not enough memory?).', { cause: err });
  }
}

/** {@link deriveKeyWithPath} on this thread (Node, tests): the key only. */
export async function deriveKey(passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  return (await deriveKeyWithPath(passphrase, salt, params)).key;
}

/** PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) through WebCrypto. Exported for known-answer tests of any length/count. */
export async function pbkdf2Sha256(
  passphrase: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
): Promise<Uint8Array> {
  // The imported key is non-extractable and only usable for deriveBits.
  const base = await crypto.subtle.importKey('raw', passphrase as BufferSource, 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    base,
    length * 8,
  );
  return new Uint8Array(bits);
}
