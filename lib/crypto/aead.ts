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
 * A second implementation of opening the same boxes, installed at run time: aead-wasm.ts installs libsodium's
 * WebAssembly build once it has loaded (asynchronously), because \@noble/ciphers costs ~16 µs per vault item in the
 * service worker and the item list opens every item in a row. It passes the plaintext to `use` (a view that is wiped
 * when `use` returns, so nothing has to be copied out) and returns true; false when the box does not authenticate
 * (`use` is not called); undefined for a box it does not take (too large, or while `use` of another box runs): then
 * \@noble/ciphers opens it. Same bytes, same checks, so which one runs is invisible to callers
 * (test/unit/crypto/aead-wasm.test.ts).
 */
export type AeadOpener = (
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  use: (plaintext: Uint8Array) => void,
) => boolean | undefined;

let opener: AeadOpener | null = null;

/** Installs (or, with null, removes) the opener that `aeadDecrypt` and `aeadOpenWith` try before \@noble/ciphers. */
export function setAeadOpener(next: AeadOpener | null): void {
  opener = next;
}

/**
 * Opens an XChaCha20-Poly1305 box. Every failure (wrong key, changed bytes, other associated data) is the same
 * DecryptError: the caller learns nothing about which check failed.
 */
export function aeadDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  checkBox(key, nonce, ciphertext);
  return tryOpener(key, nonce, ciphertext, aad, copyOut)?.value ?? nobleOpen(key, nonce, ciphertext, aad);
}

/**
 * Opens a box like `aeadDecrypt` and hands the plaintext to `use`, then wipes it: for callers that only read the
 * plaintext (the item list decodes each item's row fields), this spares a copy per box. `use` must not keep the
 * array it is given; what it returns is returned.
 * @throws DecryptError when the box does not authenticate (`use` is not called then).
 */
export function aeadOpenWith<T>(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  use: (plaintext: Uint8Array) => T,
): T {
  checkBox(key, nonce, ciphertext);
  const opened = tryOpener(key, nonce, ciphertext, aad, use);
  if (opened) return opened.value;
  const plaintext = nobleOpen(key, nonce, ciphertext, aad);
  try {
    return use(plaintext);
  } finally {
    plaintext.fill(0);
  }
}

const copyOut = (plaintext: Uint8Array): Uint8Array => plaintext.slice();

function checkBox(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array): void {
  if (key.length !== AEAD_KEY_LENGTH) throw new RangeError('key must be 32 bytes');
  if (nonce.length !== NONCE_LENGTH || ciphertext.length < TAG_LENGTH) throw new DecryptError();
}

/** The installed opener's answer: `{ value }` when it opened the box, undefined when \@noble/ciphers must. */
function tryOpener<T>(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  use: (plaintext: Uint8Array) => T,
): { value: T } | undefined {
  if (!opener) return undefined;
  let out: { value: T } | undefined;
  let useFailed = false;
  let opened: boolean | undefined;
  try {
    opened = opener(key, nonce, ciphertext, aad, (plaintext) => {
      try {
        out = { value: use(plaintext) };
      } catch (err) {
        useFailed = true;
        throw err;
      }
    });
  } catch (err) {
    // An error thrown by `use` is the caller's. Anything else means the opener could not run at all (a WebAssembly
    // trap): no answer about this box. Stop using it; @noble/ciphers opens this box (unless it was used) and the next.
    if (useFailed) throw err;
    opener = null;
    return out;
  }
  if (opened === false) throw new DecryptError();
  return opened ? out : undefined;
}

function nobleOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(ciphertext);
  } catch (err) {
    throw new DecryptError(undefined, { cause: err });
  }
}
