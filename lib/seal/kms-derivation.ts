import { x25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, utf8Encode, wipe } from '../bytes';
import { SealError } from './errors';

/**
 * How a dstack KMS derives an app's X25519 env-encryption key pair from its root CA key (specs/sealing-to-cvm.md
 * §1.1; dstack ra-tls/src/kdf.rs `derive_dh_secret`, context [app_id, "env-encrypt-key"] in
 * kms/src/main_service.rs):
 *
 *   scalar      = HKDF-SHA256(salt "RATLS", ikm = root P-256 private scalar, info = context parts concatenated, 32 B)
 *   pkcs8       = PKCS#8 v1 DER of the P-256 key `scalar`, with its public key and no [0] parameters (138 bytes)
 *   x25519 priv = SHA-256(pkcs8)   (clamped when used)
 *
 * The client never derives keys: the KMS does. This is here for the CVM simulator's KMS (which stands in for the
 * real one) and to pin the construction against upstream's vector (test/fixtures/sealing/kdf.json).
 */

export const ENV_ENCRYPT_KEY_CONTEXT = 'env-encrypt-key';
const RATLS_SALT = utf8Encode('RATLS');
// SEQUENCE { INTEGER 0, SEQUENCE { id-ecPublicKey, prime256v1 }, OCTET STRING { ECPrivateKey SEQUENCE { INTEGER 1,
// OCTET STRING (32) scalar, [1] { BIT STRING 04 ‖ X ‖ Y } } } }: every length is fixed, so a template is exact.
const PKCS8_P256_HEAD = fromHex('308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420');
const PKCS8_P256_PUBLIC_KEY_TAG = fromHex('a144034200');
export const P256_PKCS8_BYTES = 138;

function requireScalar(scalar: Uint8Array, what: string): void {
  if (!(scalar instanceof Uint8Array) || scalar.length !== 32 || !p256.utils.isValidSecretKey(scalar)) {
    throw new SealError('derivation_invalid', `${what} is not a valid P-256 private scalar (32 bytes, 1 ≤ d < n).`);
  }
}

/** HKDF-SHA256 with salt "RATLS" over the root scalar; info = the context parts concatenated. */
export function deriveP256Scalar(rootScalar: Uint8Array, contextParts: readonly Uint8Array[]): Uint8Array {
  requireScalar(rootScalar, 'The KMS root key');
  const scalar = hkdf(sha256, rootScalar, RATLS_SALT, concatBytes(...contextParts), 32);
  // Out of range with probability ~2^-32; upstream would fail to build the key too, so refuse rather than reduce.
  requireScalar(scalar, 'The derived key');
  return scalar;
}

/** The 138-byte PKCS#8 DER upstream hashes (ring/rcgen's encoding of a P-256 key with its public key). */
export function p256Pkcs8Der(scalar: Uint8Array): Uint8Array {
  requireScalar(scalar, 'The P-256 key');
  return concatBytes(PKCS8_P256_HEAD, scalar, PKCS8_P256_PUBLIC_KEY_TAG, p256.getPublicKey(scalar, false));
}

/** dstack `derive_dh_secret`: the 32-byte X25519 private key for a context. */
export function deriveDhSecret(rootScalar: Uint8Array, contextParts: readonly Uint8Array[]): Uint8Array {
  const scalar = deriveP256Scalar(rootScalar, contextParts);
  const der = p256Pkcs8Der(scalar);
  try {
    return sha256(der);
  } finally {
    wipe(scalar, der);
  }
}

export interface EnvKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** The X25519 env-encryption key pair a KMS with this root scalar derives for `appId` (20 bytes or 40 hex). */
export function deriveEnvKeyPair(rootScalar: Uint8Array, appId: Uint8Array | string): EnvKeyPair {
  let id: Uint8Array;
  if (typeof appId === 'string') {
    if (!/^[0-9a-fA-F]{40}$/.test(appId))
      throw new SealError('derivation_invalid', 'The app id must be 40 hex digits.');
    id = fromHex(appId);
  } else {
    id = appId;
  }
  if (id.length !== 20) throw new SealError('derivation_invalid', 'The app id must be 20 bytes.');
  const privateKey = deriveDhSecret(rootScalar, [id, utf8Encode(ENV_ENCRYPT_KEY_CONTEXT)]);
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}
