import loadLibsodium, { type LibsodiumModule } from 'libsodium';
import { randomBytes } from '../bytes';
import { AEAD_KEY_LENGTH, aeadEncrypt, NONCE_LENGTH, setAeadOpener, TAG_LENGTH, type AeadOpener } from './aead';

/**
 * Opening XChaCha20-Poly1305 boxes with libsodium's WebAssembly build (npm `libsodium`, the raw module of
 * libsodium.js): crypto_aead_xchacha20poly1305_ietf_decrypt, the construction of draft-irtf-cfrg-xchacha-03 §2 that
 * \@noble/ciphers' xchacha20poly1305 implements too (same bytes: test/unit/crypto/aead-wasm.test.ts).
 *
 * Why: the vault's item list opens every item in a row, and in the service worker \@noble/ciphers spent ~16 µs per
 * item there (docs/performance.md); libsodium runs the same AEAD at a few µs. Why libsodium and not our own
 * WebAssembly: it is the maintained, widely reviewed implementation; the raw module (not libsodium-wrappers) because
 * the wrappers copy the key into the module's memory on every call and free it without wiping it, whereas here the key
 * is copied into one fixed slot and zeroed right after each call, as is the plaintext's copy.
 *
 * Only opening goes here: sealing is one item at a time (a save, an import's re-seal) and stays on \@noble/ciphers.
 */

/** Largest ciphertext + associated data taken; larger boxes (a backup file) are opened by \@noble/ciphers. */
export const WASM_AEAD_MAX_INPUT = 64 * 1024;

/** Fixed scratch region: key | nonce | associated data + ciphertext (≤ WASM_AEAD_MAX_INPUT) | plaintext. */
const REGION_SIZE = AEAD_KEY_LENGTH + NONCE_LENGTH + 2 * WASM_AEAD_MAX_INPUT;

let loading: Promise<boolean> | null = null;

/**
 * Loads libsodium's WebAssembly once and, if it opens a box exactly as \@noble/ciphers does, installs it as
 * `aeadDecrypt`'s opener. Resolves to whether it did; never rejects: where WebAssembly cannot be compiled (a CSP
 * without 'wasm-unsafe-eval', a browser without WebAssembly) every box keeps being opened by \@noble/ciphers.
 */
export function loadWasmAead(): Promise<boolean> {
  loading ??= createWasmAeadOpener().then(
    (open) => {
      setAeadOpener(open);
      return true;
    },
    () => false,
  );
  return loading;
}

/**
 * Instantiates the module and returns its opener (tests call this to compare it with \@noble/ciphers directly).
 * @throws when the module cannot be loaded or does not agree with \@noble/ciphers on a fresh box.
 */
export async function createWasmAeadOpener(): Promise<AeadOpener> {
  const sodium = await loadLibsodium({ getRandomValue: () => crypto.getRandomValues(new Uint32Array(1))[0]! });
  if (sodium._sodium_init() < 0) throw new Error('libsodium did not initialise');
  const region = sodium._malloc(REGION_SIZE);
  if (region === 0) throw new Error('libsodium could not allocate its scratch region');
  const open = opener(sodium, region);
  selfCheck(open);
  return open;
}

function opener(sodium: LibsodiumModule, region: number): AeadOpener {
  const keyAt = region;
  const nonceAt = keyAt + AEAD_KEY_LENGTH;
  const aadAt = nonceAt + NONCE_LENGTH;
  let busy = false;
  return (key, nonce, ciphertext, aad, use) => {
    if (key.length !== AEAD_KEY_LENGTH || nonce.length !== NONCE_LENGTH || ciphertext.length < TAG_LENGTH)
      return undefined; // aeadDecrypt checked these already; anything else is not ours to judge
    // Too large for the region, or `use` of another box is still reading the region: @noble/ciphers opens it.
    if (busy || ciphertext.length + aad.length > WASM_AEAD_MAX_INPUT) return undefined;
    const ciphertextAt = aadAt + aad.length;
    const plaintextAt = ciphertextAt + ciphertext.length;
    const plaintextLength = ciphertext.length - TAG_LENGTH;
    // Read on every call: the module replaces HEAPU8 if its memory ever grows.
    const heap = sodium.HEAPU8;
    busy = true;
    try {
      heap.set(key, keyAt);
      heap.set(nonce, nonceAt);
      heap.set(aad, aadAt);
      heap.set(ciphertext, ciphertextAt);
      // Checks the tag first and writes no plaintext unless it matches (-1 then, whichever check failed).
      const rc = sodium._crypto_aead_xchacha20poly1305_ietf_decrypt(
        plaintextAt,
        0,
        0,
        ciphertextAt,
        ciphertext.length,
        0,
        aadAt,
        aad.length,
        0,
        nonceAt,
        keyAt,
      );
      if (rc !== 0) return false;
      // The plaintext is read where it is (a copy costs ~2 µs in the service worker, mostly allocating the buffer).
      use(heap.subarray(plaintextAt, plaintextAt + plaintextLength));
      return true;
    } finally {
      // No copy of the key or of the plaintext stays in the module's memory after the call (libsodium wipes its own
      // subkey and Poly1305 state).
      heap.fill(0, keyAt, keyAt + AEAD_KEY_LENGTH);
      heap.fill(0, plaintextAt, plaintextAt + plaintextLength);
      busy = false;
    }
  };
}

/** One fresh box sealed by \@noble/ciphers must open to the same bytes, and fail with its tag changed. */
function selfCheck(open: AeadOpener): void {
  const key = randomBytes(AEAD_KEY_LENGTH);
  const plaintext = randomBytes(67);
  const aad = randomBytes(29);
  const { nonce, ciphertext } = aeadEncrypt(key, plaintext, aad);
  let agrees = false;
  const opened = open(key, nonce, ciphertext, aad, (p) => {
    agrees = p.length === plaintext.length && p.every((b, i) => b === plaintext[i]);
  });
  ciphertext[ciphertext.length - 1]! ^= 1;
  if (!opened || !agrees || open(key, nonce, ciphertext, aad, () => {}) !== false)
    throw new Error('libsodium disagrees with @noble/ciphers');
}
