/**
 * The simulator's TEST KMS: a P-256 root CA key (its SPKI is the `ca_pubkey` a CVM's key-provider event names)
 * and a secp256k1 root key (`k256_pubkey`) that signs each app's env-encryption public key, like dstack's KMS
 * (`kms/src/crypto.rs`: Keccak-256 of "dstack-env-encrypt-pubkey" ‖ ":" ‖ app_id ‖ [u64be timestamp ‖] key,
 * recoverable signature r ‖ s ‖ recovery id). Also a ROGUE k256 key and rogue env keys, for the `unbound-env-key`
 * misbehaviour: a key the KMS never derived, signed by a key that is not the KMS.
 */
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatBytes, fromHex, toHex, utf8Encode } from '../../lib/bytes';
import { deriveEnvKeyPair, type EnvKeyPair } from '../../lib/seal/kms-derivation';

const P256_SPKI_PREFIX = fromHex('3059301306072a8648ce3d020106082a8648ce3d030107034200');

export interface EnvKeySignature {
  /** 130 hex: r ‖ s ‖ recovery id over the legacy message. */
  signature: string;
  /** Seconds since 1970, signed by signature_v1. */
  timestamp: number;
  /** 130 hex over the v1 (timestamped) message. */
  signature_v1: string;
}

export class TestKms {
  readonly id = 'kms-sim-1';
  readonly slug = 'clawkeep-sim-kms';
  readonly name = 'Clawkeep CVM Simulator TEST KMS';
  private readonly k256Secret = secp256k1.utils.randomSecretKey();
  private readonly rogueK256Secret = secp256k1.utils.randomSecretKey();
  private readonly rogueEnvKeys = new Map<string, EnvKeyPair>();

  /** Hex DER SubjectPublicKeyInfo of the KMS root CA key. */
  readonly caPubkey: string;
  /** Compressed SEC1 secp256k1 public key (33 bytes hex). */
  readonly k256Pubkey = toHex(secp256k1.getPublicKey(this.k256Secret, true));
  readonly rogueK256Pubkey = toHex(secp256k1.getPublicKey(this.rogueK256Secret, true));

  /** @param rootScalar - the KMS root CA's P-256 private scalar; random unless a test pins it to a vector's. */
  constructor(private readonly rootScalar: Uint8Array = p256.utils.randomSecretKey()) {
    this.caPubkey = toHex(concatBytes(P256_SPKI_PREFIX, p256.getPublicKey(rootScalar, false)));
  }

  /** The env key pair this KMS derives for the app (stable for an app id), as dstack's KMS derives it. */
  envKeyPair(appId: string): EnvKeyPair {
    return deriveEnvKeyPair(this.rootScalar, appId);
  }

  /** A key pair the KMS never derived (one per app, stable while the simulator runs). */
  rogueEnvKeyPair(appId: string): EnvKeyPair {
    let pair = this.rogueEnvKeys.get(appId);
    if (!pair) {
      const privateKey = x25519.utils.randomSecretKey();
      pair = { privateKey, publicKey: x25519.getPublicKey(privateKey) };
      this.rogueEnvKeys.set(appId, pair);
    }
    return pair;
  }

  /** Legacy and v1 signatures over `publicKey` for `appId`, by the KMS key or (rogue) by the rogue key. */
  signEnvKey(
    appId: string,
    publicKey: Uint8Array,
    timestamp: number,
    signer: 'kms' | 'rogue' = 'kms',
  ): EnvKeySignature {
    const secret = signer === 'kms' ? this.k256Secret : this.rogueK256Secret;
    return {
      signature: signRecoverable(secret, envKeyMessage(fromHex(appId), publicKey)),
      timestamp,
      signature_v1: signRecoverable(secret, envKeyMessage(fromHex(appId), publicKey, timestamp)),
    };
  }
}

function u64be(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

/** "dstack-env-encrypt-pubkey" ‖ ":" ‖ app_id (20) ‖ [timestamp u64 BE] ‖ public key (32). */
export function envKeyMessage(appId: Uint8Array, publicKey: Uint8Array, timestamp?: number): Uint8Array {
  const prefix = utf8Encode('dstack-env-encrypt-pubkey:');
  return timestamp === undefined
    ? concatBytes(prefix, appId, publicKey)
    : concatBytes(prefix, appId, u64be(timestamp), publicKey);
}

/** Keccak-256 prehash, RFC 6979, low S; dstack's wire order r ‖ s ‖ recovery id (noble puts the id first). */
function signRecoverable(secret: Uint8Array, message: Uint8Array): string {
  const sig = secp256k1.sign(keccak_256(message), secret, { prehash: false, format: 'recovered', lowS: true });
  return toHex(concatBytes(sig.subarray(1), sig.subarray(0, 1)));
}
