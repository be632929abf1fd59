/**
 * The simulator's copy of dstack's KMS env-key derivation (spec §1.1; dstack `ra-tls/src/kdf.rs`
 * `derive_dh_secret`, context [app_id, "env-encrypt-key"] from `kms/src/main_service.rs`):
 *   scalar = HKDF-SHA256(salt "RATLS", ikm = KMS root P-256 scalar, info = app_id ‖ "env-encrypt-key", 32 bytes)
 *   X25519 private = SHA-256(PKCS#8 DER of that P-256 key, with its public key: 138 bytes)
 * Written here because lib/seal had no derivation when the simulator was built; checked against kdf.json.
 */
import { p256 } from '@noble/curves/nist.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, utf8Encode } from '../../../lib/bytes';

const PKCS8_P256_PREFIX = fromHex('308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420');
const PKCS8_P256_PUBLIC_KEY = fromHex('a144034200');

/** PKCS#8 v1 DER of a P-256 private key including its uncompressed public key (138 bytes). */
export function p256Pkcs8(scalar: Uint8Array): Uint8Array {
  return concatBytes(PKCS8_P256_PREFIX, scalar, PKCS8_P256_PUBLIC_KEY, p256.getPublicKey(scalar, false));
}

/** HKDF-SHA256 with salt "RATLS" over the root scalar, info = the context parts concatenated. */
export function deriveP256Scalar(rootScalar: Uint8Array, contextParts: Uint8Array[]): Uint8Array {
  return hkdf(sha256, rootScalar, utf8Encode('RATLS'), concatBytes(...contextParts), 32);
}

export interface EnvKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** The X25519 env-encryption key pair the KMS derives for `appId` (20 bytes). */
export function deriveAppEnvKeyPair(rootScalar: Uint8Array, appId: Uint8Array): EnvKeyPair {
  const scalar = deriveP256Scalar(rootScalar, [appId, utf8Encode('env-encrypt-key')]);
  const privateKey = sha256(p256Pkcs8(scalar));
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}
