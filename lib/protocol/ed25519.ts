import { ed25519 } from '@noble/curves/ed25519.js';
import { toHex, wipe } from '../bytes';

/**
 * Ed25519 for the protocol's hot paths, on the platform's WebCrypto where it has Ed25519 (Node ≥ 20, Chrome ≥ 137,
 * Firefox ≥ 129) and on noble-curves where it does not. Why: noble's pure-JS verify took about 2.6 ms and its sign
 * 1.2 ms on the 2-core CI machine, a quarter to a third of the hub's CPU under load (issue 16); WebCrypto's (OpenSSL
 * in Node) take about 0.16 ms and 0.08 ms.
 *
 * One answer everywhere: verification is strict RFC 8032 as noble checks it with zip215=false (canonical A and R,
 * S below L, A not of small order, the cofactored equation). Platform verifiers check the cofactorless equation, which
 * implies the cofactored one, and they too refuse S ≥ L and compare R by its canonical encoding, so their "valid"
 * is also noble's once A has passed noble's strict decoding here. Their "invalid" is not trusted alone: noble decides
 * it, so a signature with a torsion component (only its key's holder can make one) gets the same answer on a hub as
 * in a browser. An attacker sending bad signatures costs what it cost before; honest traffic costs a tenth.
 */

const ED25519 = { name: 'Ed25519' } as const;

/** RFC 8410 §7 PKCS#8 prefix for a bare 32-byte Ed25519 seed (OneAsymmetricKey v0, id-Ed25519, OCTET STRING). */
export const PKCS8_SEED_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
);

/** Whether this platform's WebCrypto does Ed25519; learned once, by the first call that tries. */
let platformEd25519: boolean | undefined;

function subtle(): SubtleCrypto | undefined {
  return platformEd25519 === false ? undefined : globalThis.crypto?.subtle;
}

/** Signs at once with a 32-byte seed (Node's OpenSSL); RFC 8032 signatures are deterministic, so any signer agrees. */
export type SyncPlatformEd25519Sign = (message: Uint8Array, seed: Uint8Array) => Uint8Array;

let syncPlatformSign: SyncPlatformEd25519Sign | undefined;

/** Lends this module Node's synchronous Ed25519 signing (hub/ed25519-node.ts): the hub's proofs and audit heads. */
export function useSyncPlatformEd25519Sign(sign: SyncPlatformEd25519Sign): void {
  syncPlatformSign = sign;
}

/** Signs `message` with a 32-byte seed, synchronously: on the lent platform signer, else noble. Same bytes either way. */
export function signEd25519Sync(message: Uint8Array, seed: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  return syncPlatformSign ? syncPlatformSign(message, seed) : ed25519.sign(message, seed);
}

/** A verifier that answers at once (Node's OpenSSL): `true` only for a signature valid under RFC 8032. */
export type SyncPlatformEd25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

let syncPlatform: SyncPlatformEd25519Verify | undefined;

/**
 * Lends this module Node's synchronous Ed25519 (hub/ed25519-node.ts; lib/ cannot import node:crypto, it ships to
 * browsers too). The synchronous paths (signed statements: approvals, claims, vault heads) then run at OpenSSL's
 * speed in the hub and the CLI, with the same strict answers.
 */
export function useSyncPlatformEd25519(verify: SyncPlatformEd25519Verify): void {
  syncPlatform = verify;
}

/** Strict verification (see the module comment), synchronous. Never throws: malformed is false. */
export function verifyEd25519Sync(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || !strictPublicKey(publicKey)) return false;
  if (syncPlatform) {
    try {
      if (syncPlatform(signature, message, publicKey)) return true;
    } catch {
      // a key or signature the platform will not parse: noble judges it below
    }
  }
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Public keys that passed strict decoding, most recent last. Decoding costs a square root (about 0.1 ms in
 * JavaScript), and a hub sees the same few thousand keys on every request; only valid keys are kept, so a flood of
 * made-up keys costs each its decoding and evicts nothing but older entries.
 */
const STRICT_KEYS_KEPT = 4096;
const strictKeys = new Map<string, true>();

/**
 * Whether `publicKey` is a canonical Ed25519 point not of small order, decoded as noble's strict verify decodes A
 * (RFC 8032 §5.1.3). Valid keys are remembered (see strictKeys).
 */
export function isStrictEd25519PublicKey(publicKey: Uint8Array): boolean {
  return strictPublicKey(publicKey);
}

function strictPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32) return false;
  const hex = toHex(publicKey);
  if (strictKeys.has(hex)) return true;
  let ok: boolean;
  try {
    ok = !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    ok = false;
  }
  if (ok) {
    if (strictKeys.size >= STRICT_KEYS_KEPT) strictKeys.delete(strictKeys.keys().next().value!);
    strictKeys.set(hex, true);
  }
  return ok;
}

/** The platform's verdict, or undefined when it has no Ed25519 (noble decides then). */
async function platformVerify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): Promise<boolean | undefined> {
  const s = subtle();
  if (!s) return undefined;
  let key: CryptoKey;
  try {
    key = await s.importKey('raw', publicKey as Uint8Array<ArrayBuffer>, ED25519, false, ['verify']);
    platformEd25519 = true;
  } catch (err) {
    // NotSupportedError: no Ed25519 here. Anything else (a key the platform refuses) is noble's to judge.
    if (err instanceof Error && err.name === 'NotSupportedError') platformEd25519 = false;
    return undefined;
  }
  try {
    return await s.verify(ED25519, key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>);
  } catch {
    return undefined;
  }
}

/**
 * Strict verification (see the module comment): the same answer as verifyEd25519Sync, at the platform's speed for
 * valid signatures. Never throws: malformed input is false.
 */
export async function verifyEd25519(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): Promise<boolean> {
  if (syncPlatform) return verifyEd25519Sync(signature, message, publicKey);
  if (signature.length !== 64 || !strictPublicKey(publicKey)) return false;
  if ((await platformVerify(signature, message, publicKey)) === true) return true;
  return verifyEd25519Sync(signature, message, publicKey);
}

/** Signs with a key it does not reveal: the same interface as the device's non-extractable key. */
export interface Ed25519Signer {
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * A signer over a 32-byte seed: a non-extractable WebCrypto key imported once (the PKCS#8 bytes made for the import
 * are wiped), or noble where the platform has no Ed25519. Ed25519 signatures are deterministic (RFC 8032 §5.1.6),
 * so both give the same bytes. The caller keeps owning `seed`; the copy made here is wiped once the platform holds the key.
 */
export function ed25519SignerFromSeed(seed: Uint8Array): Ed25519Signer {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const copy = seed.slice();
  let platformKey: Promise<CryptoKey | null> | undefined;
  const loadKey = async (): Promise<CryptoKey | null> => {
    const s = subtle();
    if (!s) return null;
    const pkcs8 = new Uint8Array(PKCS8_SEED_PREFIX.length + 32);
    pkcs8.set(PKCS8_SEED_PREFIX);
    pkcs8.set(copy, PKCS8_SEED_PREFIX.length);
    try {
      const key = await s.importKey('pkcs8', pkcs8, ED25519, false, ['sign']);
      platformEd25519 = true;
      wipe(copy); // the platform holds it now; noble's fallback is not needed
      return key;
    } catch (err) {
      if (err instanceof Error && err.name === 'NotSupportedError') platformEd25519 = false;
      return null;
    } finally {
      wipe(pkcs8);
    }
  };
  return {
    async sign(message) {
      platformKey ??= loadKey();
      const key = await platformKey;
      if (key)
        return new Uint8Array(await globalThis.crypto.subtle.sign(ED25519, key, message as Uint8Array<ArrayBuffer>));
      return ed25519.sign(message, copy);
    },
  };
}
