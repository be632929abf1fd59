import { aeadDecrypt, aeadEncrypt, NONCE_LENGTH, TAG_LENGTH } from '../crypto/aead';
import type { KdfParams } from '../crypto/kdf-params';
import { DecryptError, FormatError, WrongPassphraseError } from '../errors';
import { ByteReader, ByteWriter, readTagAndVersion, writeTagAndVersion } from './binary';
import { readKdfBlock, writeKdfBlock } from './kdf-block';

/**
 * Encrypted backup file, format "CKBK" version 1:
 *   "CKBK" | 0x01 | KDF block | nonce[24] | XChaCha20-Poly1305(ciphertext + tag)
 * Key: the KDF of the backup passphrase. Associated data: every byte before the nonce (tag, version, KDF
 * parameters, salt), so the parameters cannot be altered without the open failing.
 */
export const BACKUP_TAG = 'CKBK';
export const BACKUP_VERSION = 1;
/** A ceiling on what we will try to decrypt, so a hostile file cannot exhaust memory. */
export const BACKUP_MAX_BYTES = 256 * 1024 * 1024;

export interface BackupFile {
  kdf: KdfParams;
  salt: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  /** The bytes before the nonce: the associated data. */
  prefix: Uint8Array;
}

function encodePrefix(kdf: KdfParams, salt: Uint8Array): Uint8Array {
  const writer = new ByteWriter();
  writeTagAndVersion(writer, BACKUP_TAG, BACKUP_VERSION);
  writeKdfBlock(writer, kdf, salt);
  return writer.finish();
}

/** Parses the outer file; says nothing yet about whether the passphrase is right. */
export function decodeBackupFile(bytes: Uint8Array): BackupFile {
  if (bytes.length > BACKUP_MAX_BYTES) throw new FormatError('Backup file is too large.', 'backup_invalid');
  const reader = new ByteReader(bytes, 'Backup file');
  readTagAndVersion(reader, BACKUP_TAG, BACKUP_VERSION, 'Clawkeep backup');
  const { kdf, salt } = readKdfBlock(reader, 'Backup file');
  const prefix = reader.consumed().slice();
  const nonce = reader.take(NONCE_LENGTH).slice();
  const ciphertext = reader.rest();
  if (ciphertext.length < TAG_LENGTH) throw new FormatError('Backup file is truncated.', 'backup_invalid');
  return { kdf, salt, nonce, ciphertext, prefix };
}

export function sealBackupFile(args: {
  kdf: KdfParams;
  salt: Uint8Array;
  kek: Uint8Array;
  plaintext: Uint8Array;
  nonce?: Uint8Array;
}): Uint8Array {
  const prefix = encodePrefix(args.kdf, args.salt);
  const { nonce, ciphertext } = aeadEncrypt(args.kek, args.plaintext, prefix, args.nonce);
  return new ByteWriter().bytes(prefix).bytes(nonce).bytes(ciphertext).finish();
}

/** @throws WrongPassphraseError when the backup passphrase's key does not open the file (or it was altered). */
export function openBackupFile(file: BackupFile, kek: Uint8Array): Uint8Array {
  try {
    return aeadDecrypt(kek, file.nonce, file.ciphertext, file.prefix);
  } catch (err) {
    if (err instanceof DecryptError)
      throw new WrongPassphraseError({
        cause: err,
        message: 'Wrong backup passphrase, or the backup file was changed. Nothing was imported.',
      });
    throw err;
  }
}
