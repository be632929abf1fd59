import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '../bytes';
import { DecryptError } from '../errors';

/** XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03): 24-byte nonces are safe to pick at random. */
export const NONCE_LENGTH = 24;
export const TAG_LENGTH = 16;
export const AEAD_KEY_LENGTH = 32;

export function aeadEncrypt(
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  nonce = randomBytes(NONCE_LENGTH),
) {
  if (key.length !== AEAD_KEY_LENGTH) throw new RangeError('key must be 32 bytes');
  if (nonce.length !== NONCE_LENGTH) throw new RangeError('nonce must be 24 bytes');
  const ciphertext = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
  return { nonce, ciphertext };
}

/**
 * Opens an XChaCha20-Poly1305 box. Every failure (wrong key, changed bytes, other associated data) is the same
 * DecryptError: the caller learns nothing about which check failed.
 */
export function aeadDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  if (key.length !== AEAD_KEY_LENGTH) throw new RangeError('key must be 32 bytes');
  if (nonce.length !== NONCE_LENGTH || ciphertext.length < TAG_LENGTH) throw new DecryptError();
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(ciphertext);
  } catch (err) {
    throw new DecryptError(undefined, { cause: err });
  }
}
