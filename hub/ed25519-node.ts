import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { PKCS8_SEED_PREFIX, useSyncPlatformEd25519, useSyncPlatformEd25519Sign } from '../lib/protocol/ed25519';

/**
 * Lends lib/protocol/ed25519.ts Node's OpenSSL Ed25519 (synchronous, ~15× noble's speed), so every signature the hub
 * and the CLI check — signed requests and signed statements alike — costs a fraction of a millisecond. The answers
 * stay noble's strict ones: OpenSSL's "valid" is only taken for keys that passed strict decoding, and its
 * "invalid" is decided by noble (see that module). Signing too (the hub's identity proofs, which every agent asks
 * for every 10 s, and its audit heads): deterministic, so the bytes are noble's. Idempotent.
 */
export function useNodeEd25519(): void {
  useSyncPlatformEd25519((signature, message, publicKey) => verify(null, message, verifyingKey(publicKey), signature));
  useSyncPlatformEd25519Sign(nodeSign);
}

/**
 * Key objects of the public keys verified with, most recent last: importing one (createPublicKey from a JWK) cost
 * a fifth of the signature check itself under load (bench/hub-throughput.mjs profile), and a hub sees the same few
 * thousand agent and device keys on every request. Only keys that passed strict decoding reach here
 * (lib/protocol/ed25519.ts), so a flood of made-up keys does not fill it.
 */
const VERIFYING_KEYS_KEPT = 4096;
const verifyingKeys = new Map<string, KeyObject>();

function verifyingKey(publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey).toString('base64url');
  let key = verifyingKeys.get(x);
  if (key) {
    verifyingKeys.delete(x); // most recently used goes last
  } else {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (verifyingKeys.size >= VERIFYING_KEYS_KEPT) verifyingKeys.delete(verifyingKeys.keys().next().value!);
  }
  verifyingKeys.set(x, key);
  return key;
}

/**
 * Key objects of the seeds signed with, most recent last: making one from the seed (createPrivateKey) cost more than
 * the signature itself (4.6% of the hub's CPU under load). A hub signs with its one identity key; a few are kept.
 */
const SIGNING_KEYS_KEPT = 8;
const signingKeys = new Map<string, KeyObject>();

function signingKey(seed: Uint8Array): KeyObject {
  const id = createHash('sha256').update(seed).digest('base64url'); // a name for the seed, not the seed
  let key = signingKeys.get(id);
  if (!key) {
    const der = Buffer.concat([PKCS8_SEED_PREFIX, seed]);
    try {
      key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0); // our copy of the seed; the caller owns `seed`
    }
    if (signingKeys.size >= SIGNING_KEYS_KEPT) signingKeys.delete(signingKeys.keys().next().value!);
    signingKeys.set(id, key);
  }
  return key;
}

function nodeSign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, signingKey(seed)));
}
