import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatBytes, equalBytes, fromHex, toHex, utf8Encode } from '../bytes';
import { SealError } from './errors';

/**
 * The dstack KMS signs each app's env-encryption public key with its root secp256k1 key
 * (dstack/kms/src/crypto.rs `sign_message`, `sign_message_with_timestamp`; specs/sealing-to-cvm.md §1.3):
 *
 *   legacy message = "dstack-env-encrypt-pubkey" ‖ ":" ‖ app_id (20 bytes) ‖ public_key (32 bytes)
 *   v1 message     = "dstack-env-encrypt-pubkey" ‖ ":" ‖ app_id (20) ‖ timestamp (u64 big-endian) ‖ public_key (32)
 *   digest         = Keccak-256(message)   — original Keccak, not NIST SHA3-256; no EIP-191 prefix
 *   signature      = r (32) ‖ s (32, low-S) ‖ recovery id (1 byte, 0 or 1)
 *
 * A key is accepted only when the signer recovered from the signature is the KMS key we trust (compressed SEC1,
 * compared as bytes). Without that, whoever serves the public key (Phala's API, a proxy) could hand us their own.
 */

export const ENV_KEY_SIGNATURE_DOMAIN = 'dstack-env-encrypt-pubkey';
/** v1 freshness window of the dstack SDK: older than 5 minutes or more than 1 minute ahead is refused. */
export const MAX_SIGNATURE_AGE_SECONDS = 300;
export const MAX_SIGNATURE_FUTURE_SECONDS = 60;
export const APP_ID_BYTES = 20;
export const ENV_PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 65;

function strictHex(
  hex: unknown,
  bytes: number,
  what: string,
  code: 'signature_invalid' | 'pubkey_invalid',
): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new SealError(code, `${what} must be exactly ${bytes * 2} hex digits (${bytes} bytes).`);
  }
  return fromHex(hex);
}

function u64be(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

function checkTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new SealError('signature_invalid', 'The signature timestamp must be a whole number of seconds since 1970.');
  }
}

/** The bytes the KMS signs; `timestamp` (seconds) selects the v1 layout. */
export function envKeySignatureMessage(appId: Uint8Array, publicKey: Uint8Array, timestamp?: number): Uint8Array {
  if (appId.length !== APP_ID_BYTES) throw new RangeError('app id must be 20 bytes');
  if (publicKey.length !== ENV_PUBLIC_KEY_BYTES) throw new RangeError('public key must be 32 bytes');
  const prefix = utf8Encode(`${ENV_KEY_SIGNATURE_DOMAIN}:`);
  if (timestamp === undefined) return concatBytes(prefix, appId, publicKey);
  checkTimestamp(timestamp);
  return concatBytes(prefix, appId, u64be(timestamp), publicKey);
}

export interface EnvKeySignatureInput {
  /** 40 hex: the app the key belongs to. */
  appId: string;
  /** 64 hex: the X25519 env-encryption public key. */
  publicKey: string;
  /** 130 hex: r ‖ s ‖ recovery id. */
  signature: string;
  /** Seconds since 1970; present = v1 (timestamped) signature, absent = legacy. */
  timestamp?: number;
}

/**
 * The compressed (33-byte) secp256k1 key that produced `signature` over this app's env key.
 * @throws SealError signature_invalid (malformed input, recovery id not 0/1, high S, no key recoverable)
 */
export function recoverEnvKeySigner(input: EnvKeySignatureInput): Uint8Array {
  const appId = strictHex(input.appId, APP_ID_BYTES, 'The app id', 'signature_invalid');
  const publicKey = strictHex(input.publicKey, ENV_PUBLIC_KEY_BYTES, 'The env encryption public key', 'pubkey_invalid');
  const signature = strictHex(input.signature, SIGNATURE_BYTES, 'The KMS signature', 'signature_invalid');
  const recovery = signature[64]!;
  // dstack's k256 signer only ever produces 0 or 1 (2/3 need r ≥ n, which does not happen in practice).
  if (recovery !== 0 && recovery !== 1)
    throw new SealError('signature_invalid', 'The KMS signature has a recovery id other than 0 or 1.');
  const digest = keccak_256(envKeySignatureMessage(appId, publicKey, input.timestamp));
  try {
    const sig = secp256k1.Signature.fromBytes(signature.subarray(0, 64), 'compact');
    // The KMS normalises S; a high-S twin of a signature is not something it produced.
    if (sig.hasHighS()) throw new SealError('signature_invalid', 'The KMS signature is not in low-S form.');
    return sig.addRecoveryBit(recovery).recoverPublicKey(digest).toBytes(true);
  } catch (err) {
    if (err instanceof SealError) throw err;
    throw new SealError('signature_invalid', 'No public key can be recovered from the KMS signature: it is malformed.');
  }
}

/** A trusted KMS key in SEC1 form (33-byte compressed or 65-byte uncompressed hex), returned compressed. */
export function parseK256PublicKey(hex: string): Uint8Array {
  if (typeof hex !== 'string' || !/^(?:[0-9a-fA-F]{66}|[0-9a-fA-F]{130})$/.test(hex)) {
    throw new SealError(
      'signature_invalid',
      'The trusted KMS key must be a secp256k1 public key in hex (33 or 65 bytes).',
    );
  }
  try {
    return secp256k1.Point.fromBytes(fromHex(hex)).toBytes(true);
  } catch {
    throw new SealError('signature_invalid', 'The trusted KMS key is not a point on secp256k1.');
  }
}

function describeTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} s after 1970` : date.toISOString();
}

export interface VerifyEnvKeySignatureInput extends EnvKeySignatureInput {
  /** The KMS root k256 key we trust (hex SEC1), e.g. from GET /kms `k256_pubkey`. */
  trustedK256Pubkey: string;
  /** For the v1 freshness window; default the current time. */
  now?: Date | number;
}

/**
 * Accepts the env public key only if the trusted KMS signed it for this app (and, for v1, recently).
 * @throws SealError signature_invalid | signature_stale | pubkey_invalid
 */
export function verifyEnvKeySignature(input: VerifyEnvKeySignatureInput): void {
  const trusted = parseK256PublicKey(input.trustedK256Pubkey);
  const signer = recoverEnvKeySigner(input);
  if (!equalBytes(signer, trusted)) {
    throw new SealError(
      'signature_invalid',
      `The env encryption key is not signed by the trusted KMS: the signature recovers to ${toHex(signer).slice(0, 12)}…, ` +
        `the KMS key is ${toHex(trusted).slice(0, 12)}….`,
    );
  }
  if (input.timestamp !== undefined) {
    const nowMs = input.now === undefined ? Date.now() : new Date(input.now).getTime();
    if (Number.isNaN(nowMs)) throw new RangeError('now is not a valid time');
    const now = Math.floor(nowMs / 1000);
    const signedAt = describeTime(input.timestamp);
    if (now - input.timestamp > MAX_SIGNATURE_AGE_SECONDS) {
      throw new SealError(
        'signature_stale',
        `The KMS signature over the env key is from ${signedAt}, more than ${MAX_SIGNATURE_AGE_SECONDS} s old: fetch the key again.`,
      );
    }
    if (input.timestamp - now > MAX_SIGNATURE_FUTURE_SECONDS) {
      throw new SealError(
        'signature_stale',
        `The KMS signature over the env key is dated ${signedAt}, more than ${MAX_SIGNATURE_FUTURE_SECONDS} s in the future: check the clock.`,
      );
    }
  }
}
