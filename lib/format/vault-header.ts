import { aeadDecrypt, aeadEncrypt, NONCE_LENGTH, TAG_LENGTH } from '../crypto/aead';
import type { KdfParams } from '../crypto/kdf-params';
import { DecryptError, WrongPassphraseError } from '../errors';
import { ByteReader, ByteWriter, readTagAndVersion, writeTagAndVersion } from './binary';
import { readKdfBlock, writeKdfBlock } from './kdf-block';

/**
 * Vault header, format "CKVH" version 1:
 *   "CKVH" | 0x01 | vaultId[16] | KDF block (see kdf-block.ts) | nonce[24] | wrappedVaultKey[32 + 16]
 * The vault key is XChaCha20-Poly1305-encrypted under the passphrase-derived KEK with every byte before the nonce
 * as associated data, so changing the KDF parameters, salt or vault id makes the unwrap fail.
 */
export const VAULT_HEADER_TAG = 'CKVH';
export const VAULT_HEADER_VERSION = 1;
export const VAULT_ID_LENGTH = 16;
const WRAPPED_KEY_LENGTH = 32 + TAG_LENGTH;

export interface VaultHeader {
  vaultId: Uint8Array;
  kdf: KdfParams;
  salt: Uint8Array;
  nonce: Uint8Array;
  wrappedKey: Uint8Array;
}

function encodePrefix(vaultId: Uint8Array, kdf: KdfParams, salt: Uint8Array): Uint8Array {
  if (vaultId.length !== VAULT_ID_LENGTH) throw new RangeError('vaultId must be 16 bytes');
  const writer = new ByteWriter();
  writeTagAndVersion(writer, VAULT_HEADER_TAG, VAULT_HEADER_VERSION);
  writer.bytes(vaultId);
  writeKdfBlock(writer, kdf, salt);
  return writer.finish();
}

export function encodeVaultHeader(header: VaultHeader): Uint8Array {
  if (header.nonce.length !== NONCE_LENGTH || header.wrappedKey.length !== WRAPPED_KEY_LENGTH) {
    throw new RangeError('invalid nonce or wrapped key length');
  }
  return new ByteWriter()
    .bytes(encodePrefix(header.vaultId, header.kdf, header.salt))
    .bytes(header.nonce)
    .bytes(header.wrappedKey)
    .finish();
}

/** @throws FormatError on a wrong tag, version, length; KdfParamsError on out-of-range parameters. */
export function decodeVaultHeader(bytes: Uint8Array): VaultHeader {
  const reader = new ByteReader(bytes, 'Vault header');
  readTagAndVersion(reader, VAULT_HEADER_TAG, VAULT_HEADER_VERSION, 'vault header');
  const vaultId = reader.take(VAULT_ID_LENGTH).slice();
  const { kdf, salt } = readKdfBlock(reader, 'Vault header');
  const nonce = reader.take(NONCE_LENGTH).slice();
  const wrappedKey = reader.take(WRAPPED_KEY_LENGTH).slice();
  reader.end();
  return { vaultId, kdf, salt, nonce, wrappedKey };
}

/** Wraps `vaultKey` under `kek`, producing a complete header. */
export function sealVaultHeader(args: {
  vaultId: Uint8Array;
  kdf: KdfParams;
  salt: Uint8Array;
  kek: Uint8Array;
  vaultKey: Uint8Array;
  nonce?: Uint8Array;
}): VaultHeader {
  const aad = encodePrefix(args.vaultId, args.kdf, args.salt);
  const { nonce, ciphertext } = aeadEncrypt(args.kek, args.vaultKey, aad, args.nonce);
  return { vaultId: args.vaultId.slice(), kdf: args.kdf, salt: args.salt.slice(), nonce, wrappedKey: ciphertext };
}

/** @throws WrongPassphraseError when the KEK does not open the wrapped key. */
export function openVaultHeader(header: VaultHeader, kek: Uint8Array): Uint8Array {
  const aad = encodePrefix(header.vaultId, header.kdf, header.salt);
  try {
    return aeadDecrypt(kek, header.nonce, header.wrappedKey, aad);
  } catch (err) {
    if (err instanceof DecryptError) throw new WrongPassphraseError({ cause: err });
    throw err;
  }
}
