import { FormatError } from '../errors';
import { assertKdfParams, KDF_ALGORITHM_IDS, SALT_LENGTH, type KdfParams } from '../crypto/kdf-params';
import type { ByteReader, ByteWriter } from './binary';

/**
 * The KDF block shared by the vault header and the backup file:
 *   alg u8 | (argon2id: memoryKiB u32, iterations u32, parallelism u8 | pbkdf2: iterations u32) | saltLen u8 | salt
 * Parsing enforces the KDF floors and ceilings, so untrusted files are rejected before any work is done.
 */
export function readKdfBlock(reader: ByteReader, what: string): { kdf: KdfParams; salt: Uint8Array } {
  const alg = reader.u8();
  let kdf: KdfParams;
  if (alg === KDF_ALGORITHM_IDS.argon2id) {
    kdf = { algorithm: 'argon2id', memoryKiB: reader.u32(), iterations: reader.u32(), parallelism: reader.u8() };
  } else if (alg === KDF_ALGORITHM_IDS['pbkdf2-sha256']) {
    kdf = { algorithm: 'pbkdf2-sha256', iterations: reader.u32() };
  } else {
    throw new FormatError(`${what} names an unknown key derivation algorithm (${alg}).`);
  }
  assertKdfParams(kdf);
  const saltLength = reader.u8();
  if (saltLength !== SALT_LENGTH) throw new FormatError(`${what} has a salt of the wrong length.`);
  return { kdf, salt: reader.take(saltLength).slice() };
}

export function writeKdfBlock(writer: ByteWriter, kdf: KdfParams, salt: Uint8Array): void {
  assertKdfParams(kdf);
  if (salt.length !== SALT_LENGTH) throw new RangeError(`salt must be ${SALT_LENGTH} bytes`);
  if (kdf.algorithm === 'argon2id') {
    writer.u8(KDF_ALGORITHM_IDS.argon2id).u32(kdf.memoryKiB).u32(kdf.iterations).u8(kdf.parallelism);
  } else {
    writer.u8(KDF_ALGORITHM_IDS['pbkdf2-sha256']).u32(kdf.iterations);
  }
  writer.u8(salt.length).bytes(salt);
}
