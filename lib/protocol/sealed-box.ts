import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, randomBytes, utf8Encode, wipe } from '../bytes';
import { aeadDecrypt, aeadEncrypt, NONCE_LENGTH, TAG_LENGTH } from '../crypto/aead';
import { deriveBoxKey } from './box-kdf';
import { ProtocolError } from './errors';

/**
 * The ECIES shape shared by what a device seals to an agent's X25519 box key (like age's X25519 recipient or HPKE
 * base mode), with a fresh ephemeral key per box:
 *
 * ```text
 *   bytes = TAG[4] | version | ephemeralPublic[32] | nonce[24] | XChaCha20-Poly1305 ciphertext + tag[16]
 *   key   = HKDF-SHA256(X25519(ephemeralPrivate, recipientPublic), salt = ephemeralPublic ‖ recipientPublic, info)
 *   AD    = TAG | version | the format's canonical context
 * ```
 *
 * Each format has its own tag, version, HKDF info (so a key derived for one format is never another's) and
 * plaintext ceiling; its context lives in the AD, so a box cannot be moved to another intent, agent or revision.
 */
export interface BoxFormat {
  /** TAG | version, the first five bytes. */
  readonly head: Uint8Array;
  readonly info: Uint8Array;
  readonly maxPlaintext: number;
  /** The format's one opaque error: every failure to open is this, whichever check failed. */
  readonly fail: (cause?: unknown) => ProtocolError;
}

const HEADER_LENGTH = 5 + 32 + NONCE_LENGTH;
/** Bytes a box adds to its plaintext. */
export const BOX_OVERHEAD = HEADER_LENGTH + TAG_LENGTH;

export function boxFormat(
  tag: string,
  version: number,
  info: string,
  maxPlaintext: number,
  fail: (cause?: unknown) => ProtocolError,
): BoxFormat {
  return {
    head: Uint8Array.of(...[...tag].map((c) => c.charCodeAt(0)), version),
    info: utf8Encode(info),
    maxPlaintext,
    fail,
  };
}

/** The associated data: the head, then the format's context bytes. */
export const boxAssociatedData = (format: BoxFormat, context: Uint8Array): Uint8Array =>
  concatBytes(format.head, context);

export interface SealBoxOptions {
  /** Fixed ephemeral X25519 private key, for vectors only. Copied, and the copy is wiped. */
  ephemeralPrivate?: Uint8Array;
  /** Fixed 24-byte nonce, for vectors only. */
  nonce?: Uint8Array;
}

/**
 * Seals `plaintext` to `recipientPublic` with `ad` (from boxAssociatedData).
 * @throws the format's error for a low-order recipient key; RangeError for bad lengths.
 */
export function sealBox(
  format: BoxFormat,
  recipientPublic: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
  options: SealBoxOptions = {},
): Uint8Array {
  if (!(recipientPublic instanceof Uint8Array) || recipientPublic.length !== 32)
    throw new RangeError('recipientPublic must be 32 bytes');
  if (!(plaintext instanceof Uint8Array) || plaintext.length > format.maxPlaintext)
    throw new RangeError(`plaintext must be at most ${format.maxPlaintext} bytes`);
  if (options.ephemeralPrivate && options.ephemeralPrivate.length !== 32)
    throw new RangeError('ephemeralPrivate must be 32 bytes');
  const ephemeralPrivate = options.ephemeralPrivate ? options.ephemeralPrivate.slice() : randomBytes(32);
  let key: Uint8Array | undefined;
  try {
    const ephemeralPublic = x25519.getPublicKey(ephemeralPrivate);
    key = deriveBoxKey(ephemeralPrivate, recipientPublic, ephemeralPublic, recipientPublic, format.info, format.fail);
    const { nonce, ciphertext } = aeadEncrypt(key, plaintext, ad, options.nonce);
    return concatBytes(format.head, ephemeralPublic, nonce, ciphertext);
  } finally {
    wipe(ephemeralPrivate, key);
  }
}

/** Whether `bytes` has the format's shape: its head and a length from an empty to the largest plaintext. */
export function isBoxShape(format: BoxFormat, bytes: Uint8Array): boolean {
  return (
    bytes instanceof Uint8Array &&
    bytes.length >= BOX_OVERHEAD &&
    bytes.length <= BOX_OVERHEAD + format.maxPlaintext &&
    format.head.every((b, i) => bytes[i] === b)
  );
}

/**
 * Opens a box with the recipient's X25519 private key for `ad`. Every failure (head, length, key, context, changed
 * bytes) is the format's one error. The caller wipes the plaintext.
 */
export function openBox(
  format: BoxFormat,
  recipientPrivate: Uint8Array,
  bytes: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  if (!(recipientPrivate instanceof Uint8Array) || recipientPrivate.length !== 32)
    throw new RangeError('recipientPrivate must be 32 bytes');
  if (!isBoxShape(format, bytes)) throw format.fail();
  const ephemeralPublic = bytes.subarray(5, 37);
  let key: Uint8Array | undefined;
  try {
    const recipientPublic = x25519.getPublicKey(recipientPrivate);
    key = deriveBoxKey(recipientPrivate, ephemeralPublic, ephemeralPublic, recipientPublic, format.info, format.fail);
    return aeadDecrypt(key, bytes.subarray(37, HEADER_LENGTH), bytes.subarray(HEADER_LENGTH), ad);
  } catch (err) {
    throw err instanceof ProtocolError ? err : format.fail(err);
  } finally {
    wipe(key);
  }
}
