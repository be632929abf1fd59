import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex, utf8Encode } from '../bytes';
import { fromBase64UrlFixed, toBase64Url } from './base64url';
import { isStrictEd25519PublicKey } from './ed25519';
import { invalid } from './errors';

/**
 * Public key encodings (docs/protocol.md §Keys). Ed25519 (signing: device keys, agent keys) and X25519 (box:
 * sealed secrets) public keys are both 32 bytes and travel as unpadded base64url, exactly 43 characters.
 */
export const PUBLIC_KEY_LENGTH = 32;
export const ENCODED_PUBLIC_KEY_LENGTH = 43;
export const SIGNATURE_LENGTH = 64;
const FINGERPRINT_DOMAIN = utf8Encode('clawkeep/v1/fingerprint\0');

export type KeyType = 'ed25519' | 'x25519';

export function encodePublicKey(key: Uint8Array): string {
  if (key.length !== PUBLIC_KEY_LENGTH) throw new RangeError('public key must be 32 bytes');
  return toBase64Url(key);
}

/**
 * Strictly decodes a public key. For Ed25519 it also insists on a valid point that is not of small order: a
 * small-order key lets anyone forge signatures that verify under it, so such a key must never be registered.
 * X25519 keys are any 32 bytes on the wire; a low-order one is refused when a secret is sealed to it.
 * @throws ProtocolError `protocol_invalid`
 */
export function decodePublicKey(text: string, type: KeyType, what = `${type} public key`): Uint8Array {
  if (typeof text !== 'string' || text.length !== ENCODED_PUBLIC_KEY_LENGTH)
    throw invalid(`${what} must be 43 base64url characters.`);
  const key = fromBase64UrlFixed(text, PUBLIC_KEY_LENGTH, what);
  if (type === 'ed25519') assertSigningKey(key, what);
  return key;
}

/** Throws unless `key` is a canonical, prime-order-subgroup-safe Ed25519 point (RFC 8032 §5.1.3 decoding). */
export function assertSigningKey(key: Uint8Array, what = 'ed25519 public key'): void {
  if (key.length !== PUBLIC_KEY_LENGTH) throw invalid(`${what} must be 32 bytes.`);
  if (isStrictEd25519PublicKey(key)) return; // remembered once valid: decoding is a square root per call
  let smallOrder: boolean;
  try {
    // zip215=false: strict RFC 8032 decoding, so a non-canonical y coordinate is refused.
    smallOrder = ed25519.Point.fromBytes(key, false).isSmallOrder();
  } catch (err) {
    throw invalid(`${what} is not a valid Ed25519 point.`, { cause: err });
  }
  if (smallOrder) throw invalid(`${what} is a small-order point.`);
}

/**
 * Human-comparable key fingerprint: the first 16 bytes of SHA-256(`"clawkeep/v1/fingerprint\0"` ‖ key), shown as
 * four dash-separated groups of 8 lowercase hex characters. 128 bits keeps a second-preimage out of reach while
 * staying short enough to read aloud; the domain string keeps it from colliding with any other hash of the key.
 * @example fingerprint(key) === '1a2b3c4d-5e6f7a8b-9c0d1e2f-3a4b5c6d'
 */
export function fingerprint(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) throw new RangeError('public key must be 32 bytes');
  const hex = toHex(sha256(concatBytes(FINGERPRINT_DOMAIN, publicKey)).subarray(0, 16));
  return hex.match(/.{8}/g)!.join('-');
}

const DEVICE_KEY_ID_DOMAIN = utf8Encode('clawkeep/v1/device-key-id\0');

/**
 * The `ck-key-id` (and hub account id) of a human's device key: `dev_` + base64url of the first 16 bytes of
 * SHA-256(`"clawkeep/v1/device-key-id\0"` ‖ key). Derived from the key, so a device knows its id before it enrols.
 */
export function deviceKeyId(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) throw new RangeError('public key must be 32 bytes');
  return `dev_${toBase64Url(sha256(concatBytes(DEVICE_KEY_ID_DOMAIN, publicKey)).subarray(0, 16))}`;
}
