import { aeadDecrypt, aeadEncrypt, NONCE_LENGTH, TAG_LENGTH } from '../crypto/aead';
import { ClawkeepError, DecryptError, FormatError } from '../errors';
import { ByteReader, ByteWriter, readTagAndVersion, writeTagAndVersion } from './binary';
import { VAULT_ID_LENGTH } from './vault-header';

/**
 * Recovery wrap, format "CKRW" version 1: the vault key wrapped a second time, under a key derived from the
 * recovery kit's words (lib/vault/recovery-kit.ts), so the words alone open the vault when the passphrase is lost.
 *   "CKRW" | 0x01 | vaultId[16] | kitId[16] | createdAt (u64 ms, big-endian) | salt[16] | nonce[24] | wrappedVaultKey[32 + 16]
 * XChaCha20-Poly1305 with every byte before the nonce as associated data: the wrap is bound to this vault, this kit
 * (a regenerated kit has a new id, salt and key, so the old words open nothing) and its creation time.
 */
export const RECOVERY_WRAP_TAG = 'CKRW';
export const RECOVERY_WRAP_VERSION = 1;
export const RECOVERY_SALT_LENGTH = 16;
export const KIT_ID_LENGTH = 16;
const WRAPPED_KEY_LENGTH = 32 + TAG_LENGTH;

export interface RecoveryWrap {
  vaultId: Uint8Array;
  kitId: Uint8Array;
  createdAt: number;
  salt: Uint8Array;
  nonce: Uint8Array;
  wrappedKey: Uint8Array;
}

function encodePrefix(w: Pick<RecoveryWrap, 'vaultId' | 'kitId' | 'createdAt' | 'salt'>): Uint8Array {
  if (
    w.vaultId.length !== VAULT_ID_LENGTH ||
    w.kitId.length !== KIT_ID_LENGTH ||
    w.salt.length !== RECOVERY_SALT_LENGTH
  ) {
    throw new RangeError('invalid recovery wrap field length');
  }
  if (!Number.isSafeInteger(w.createdAt) || w.createdAt < 0) throw new RangeError('invalid createdAt');
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(w.createdAt));
  const writer = new ByteWriter();
  writeTagAndVersion(writer, RECOVERY_WRAP_TAG, RECOVERY_WRAP_VERSION);
  return writer.bytes(w.vaultId).bytes(w.kitId).bytes(time).bytes(w.salt).finish();
}

export function encodeRecoveryWrap(w: RecoveryWrap): Uint8Array {
  if (w.nonce.length !== NONCE_LENGTH || w.wrappedKey.length !== WRAPPED_KEY_LENGTH)
    throw new RangeError('invalid nonce or wrapped key length');
  return new ByteWriter().bytes(encodePrefix(w)).bytes(w.nonce).bytes(w.wrappedKey).finish();
}

/** @throws FormatError on a wrong tag, version or length. */
export function decodeRecoveryWrap(bytes: Uint8Array): RecoveryWrap {
  const reader = new ByteReader(bytes, 'Recovery wrap');
  readTagAndVersion(reader, RECOVERY_WRAP_TAG, RECOVERY_WRAP_VERSION, 'recovery wrap');
  const vaultId = reader.take(VAULT_ID_LENGTH).slice();
  const kitId = reader.take(KIT_ID_LENGTH).slice();
  const time = reader.take(8);
  const createdAt64 = new DataView(time.buffer, time.byteOffset, 8).getBigUint64(0);
  if (createdAt64 > BigInt(Number.MAX_SAFE_INTEGER))
    throw new FormatError('Recovery wrap: the creation time is out of range.');
  const createdAt = Number(createdAt64);
  const salt = reader.take(RECOVERY_SALT_LENGTH).slice();
  const nonce = reader.take(NONCE_LENGTH).slice();
  const wrappedKey = reader.take(WRAPPED_KEY_LENGTH).slice();
  reader.end();
  return { vaultId, kitId, createdAt, salt, nonce, wrappedKey };
}

export function sealRecoveryWrap(args: {
  vaultId: Uint8Array;
  kitId: Uint8Array;
  createdAt: number;
  salt: Uint8Array;
  kek: Uint8Array;
  vaultKey: Uint8Array;
  nonce?: Uint8Array;
}): RecoveryWrap {
  const aad = encodePrefix(args);
  const { nonce, ciphertext } = aeadEncrypt(args.kek, args.vaultKey, aad, args.nonce);
  return {
    vaultId: args.vaultId.slice(),
    kitId: args.kitId.slice(),
    createdAt: args.createdAt,
    salt: args.salt.slice(),
    nonce,
    wrappedKey: ciphertext,
  };
}

/** @throws ClawkeepError `recovery_words_wrong` when the key does not open the wrap (other words, an older kit). */
export function openRecoveryWrap(w: RecoveryWrap, kek: Uint8Array): Uint8Array {
  try {
    return aeadDecrypt(kek, w.nonce, w.wrappedKey, encodePrefix(w));
  } catch (err) {
    if (err instanceof DecryptError) {
      throw new ClawkeepError(
        'recovery_words_wrong',
        'These recovery words do not open this vault. They may belong to an older kit or another vault.',
        { cause: err },
      );
    }
    throw err;
  }
}
