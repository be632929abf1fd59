import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, wipe } from '../bytes';

const KEY_LENGTH = 32;

/**
 * The key agreement shared by the formats sealed to an agent's X25519 box key (CKSS secrets, CKSC configs):
 * X25519 then HKDF-SHA256 with salt = ephemeralPublic ‖ recipientPublic and a per-format `info`, so a key derived
 * for one format is never the key of another. Refuses an all-zero shared secret (a low-order public key, RFC 7748
 * §6.1). Any failure is `fail(cause)`, so callers keep their one opaque error.
 */
export function deriveBoxKey(
  privateKey: Uint8Array,
  peerPublic: Uint8Array,
  ephemeralPublic: Uint8Array,
  recipientPublic: Uint8Array,
  info: Uint8Array,
  fail: (cause: unknown) => Error,
): Uint8Array {
  let shared: Uint8Array | undefined;
  try {
    // noble already throws on low-order inputs; the zero check keeps that guarantee if it ever changes.
    shared = x25519.getSharedSecret(privateKey, peerPublic);
    if (shared.every((b) => b === 0)) throw new Error('all-zero shared secret');
    return hkdf(sha256, shared, concatBytes(ephemeralPublic, recipientPublic), info, KEY_LENGTH);
  } catch (err) {
    throw fail(err);
  } finally {
    wipe(shared);
  }
}
