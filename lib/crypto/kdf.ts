import { argon2id } from 'hash-wasm';
import { ClawkeepError } from '../errors';
import { assertKdfParams, KEY_LENGTH, type KdfParams } from './kdf-params';

/**
 * Derives a 256-bit key-encryption key from a passphrase.
 *
 * Argon2id runs in hash-wasm (WebAssembly; RFC 9106 v0x13). PBKDF2-HMAC-SHA256 runs in WebCrypto so the browser's
 * native code does the work. Parameters are checked against floors and ceilings first, so a tampered header cannot
 * weaken or stall the derivation. Call this off the UI thread (see workers/kdf.worker.ts).
 *
 * @throws KdfParamsError when parameters are out of range; ClawkeepError('kdf_failed') when the engine fails
 *   (e.g. the browser cannot allocate the requested memory).
 */
export async function deriveKey(passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  assertKdfParams(params);
  if (salt.length < 16 || salt.length > 64) throw new RangeError('salt must be 16..64 bytes');
  try {
    if (params.algorithm === 'argon2id') {
      return await argon2id({
        password: passphrase,
        salt,
        iterations: params.iterations,
        memorySize: params.memoryKiB,
        parallelism: params.parallelism,
        hashLength: KEY_LENGTH,
        outputType: 'binary',
      });
    }
    return await pbkdf2Sha256(passphrase, salt, params.iterations, KEY_LENGTH);
  } catch (err) {
    throw new ClawkeepError('kdf_failed', 'Key derivation failed on this device (not enough memory?).', { cause: err });
  }
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
