import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, randomBytes, toHex, utf8Encode, wipe } from '../bytes';
import { SealError } from './errors';

/**
 * dstack encrypted environment (specs/sealing-to-cvm.md §1.4; upstream dstack docs/encrypted-env-spec.md and the
 * guest's decryptor dstack-util/src/crypto.rs `dh_decrypt`):
 *
 * ```text
 *   plaintext = UTF-8 of JSON.stringify({ env: [{ key, value }, …] })
 *   eph_sk    = 32 random bytes;  eph_pk = X25519(eph_sk, 9)
 *   K         = X25519(eph_sk, recipient_pk)   — the raw 32-byte DH output IS the AES-256 key (no KDF)
 *   iv        = 12 random bytes;  ct ‖ tag = AES-256-GCM(K, iv, plaintext), no associated data, 16-byte tag
 *   envelope  = eph_pk(32) ‖ iv(12) ‖ ct ‖ tag(16), sent as lower-case hex without 0x
 * ```
 *
 * The recipient key is the app's env-encryption key, derived by the KMS per app id; only a CVM the KMS attested
 * receives its private half. Sealing therefore guarantees confidentiality only: anyone may seal to a public key.
 */

export interface EnvVar {
  key: string;
  value: string;
}

/** Limits the guest enforces (dstack-util parse_env_file.rs / system_setup.rs); we refuse earlier, with a reason. */
export const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_ENV_KEY_CHARS = 255;
export const MAX_ENV_VALUE_BYTES = 128 * 1024;
export const MAX_ENV_VARS = 1024;
/** The guest aborts boot when `.encrypted-env` (the envelope, not the plaintext) exceeds 256 KiB. */
export const MAX_ENVELOPE_BYTES = 256 * 1024;

export const X25519_KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** eph_pk ‖ iv ‖ tag: what an envelope adds to the plaintext. */
export const ENVELOPE_OVERHEAD_BYTES = X25519_KEY_BYTES + IV_BYTES + TAG_BYTES;
export const MAX_ENV_PLAINTEXT_BYTES = MAX_ENVELOPE_BYTES - ENVELOPE_OVERHEAD_BYTES;

// A UTF-16 surrogate without its partner: JSON.stringify escapes it, and the guest's JSON parser rejects the escape.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks env variables against the guest's rules before anything is encrypted. Messages name the key (key names
 * are not secret) and never the value.
 * @throws SealError env_invalid | env_too_large
 */
export function validateEnv(env: readonly EnvVar[]): void {
  if (!Array.isArray(env)) throw new SealError('env_invalid', 'The env must be a list of {key, value} entries.');
  if (env.length > MAX_ENV_VARS) {
    throw new SealError(
      'env_too_large',
      `The env has ${env.length} variables; a dstack CVM accepts at most ${MAX_ENV_VARS}.`,
    );
  }
  const seen = new Set<string>();
  env.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null) {
      throw new SealError('env_invalid', `Env entry ${index + 1} is not a {key, value} object.`);
    }
    const { key, value } = entry as Partial<EnvVar>;
    if (typeof key !== 'string' || key.length === 0)
      throw new SealError('env_invalid', `Env entry ${index + 1} has no key name.`);
    if (key.length > MAX_ENV_KEY_CHARS) {
      throw new SealError(
        'env_invalid',
        `The env key name starting "${key.slice(0, 32)}" is longer than ${MAX_ENV_KEY_CHARS} characters.`,
      );
    }
    if (!ENV_KEY_PATTERN.test(key)) {
      throw new SealError(
        'env_invalid',
        `The env key name ${JSON.stringify(key)} is not allowed: use letters, digits and _ only, not starting with a digit.`,
      );
    }
    if (seen.has(key)) throw new SealError('env_invalid', `The env key ${key} is given twice.`);
    seen.add(key);
    if (typeof value !== 'string') throw new SealError('env_invalid', `The value of ${key} is not a string.`);
    if (value.includes('\0'))
      throw new SealError(
        'env_invalid',
        `The value of ${key} contains a NUL character, which no environment variable can hold.`,
      );
    if (LONE_SURROGATE.test(value))
      throw new SealError('env_invalid', `The value of ${key} is not valid Unicode text.`);
    if (utf8Encode(value).length > MAX_ENV_VALUE_BYTES) {
      throw new SealError('env_too_large', `The value of ${key} is larger than ${MAX_ENV_VALUE_BYTES / 1024} KiB.`);
    }
  });
}

/** The exact plaintext dstack expects (validated first). The caller owns the returned buffer and should wipe it. */
export function envPlaintext(env: readonly EnvVar[]): Uint8Array {
  validateEnv(env);
  // Only key and value: extra properties of the caller's objects must not be sealed along.
  const plaintext = utf8Encode(JSON.stringify({ env: env.map(({ key, value }) => ({ key, value })) }));
  if (plaintext.length > MAX_ENV_PLAINTEXT_BYTES) {
    wipe(plaintext);
    throw new SealError(
      'env_too_large',
      `The sealed env would be ${plaintext.length + ENVELOPE_OVERHEAD_BYTES} bytes; a dstack CVM refuses to boot with more than ${MAX_ENVELOPE_BYTES / 1024} KiB.`,
    );
  }
  return plaintext;
}

/**
 * Parses an X25519 public key given as exactly 64 hex digits (an optional 0x is not accepted: the SDK's lenient
 * parsing of such keys silently produced wrong keys). The all-zero key and other low-order points are refused later.
 * @throws SealError pubkey_invalid
 */
export function parseEnvPublicKey(hex: string): Uint8Array {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new SealError('pubkey_invalid', 'The env encryption public key must be exactly 64 hex digits (32 bytes).');
  }
  const out = new Uint8Array(X25519_KEY_BYTES);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * X25519 shared secret, refusing low-order peers (noble rejects them) and an all-zero output, which the guest
 * also refuses. The caller wipes the result.
 */
export function x25519SharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(privateKey, publicKey);
  } catch {
    throw new SealError(
      'pubkey_invalid',
      'The env encryption public key is not a usable X25519 key (low-order point).',
    );
  }
  if (shared.every((b) => b === 0)) {
    wipe(shared);
    throw new SealError('pubkey_invalid', 'The env encryption public key yields an all-zero shared secret.');
  }
  return shared;
}

// Our buffers are never shared memory; WebCrypto copies what it is given, so the views are passed as they are.
const source = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => bytes as Uint8Array<ArrayBuffer>;

/** A non-extractable AES-256-GCM key; the raw bytes stay with the caller, who wipes them. */
export function importAesGcmKey(rawKey: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', source(rawKey), { name: 'AES-GCM' }, false, [usage]);
}

/** Fixed random inputs, for test vectors only: production callers never pass them. */
export interface FixedEnvEncryptionInputs {
  ephemeralPrivateKey?: Uint8Array;
  iv?: Uint8Array;
}

/**
 * Seals `env` to the X25519 public key of an app (64 hex) and returns the envelope as lower-case hex.
 * Does NOT decide whether the key is trustworthy: use `sealEnvForCvm` (trust-gate.ts) in product flows.
 * @throws SealError env_invalid | env_too_large | pubkey_invalid
 */
export async function encryptEnv(
  env: readonly EnvVar[],
  recipientPublicKeyHex: string,
  fixed?: FixedEnvEncryptionInputs,
): Promise<string> {
  const recipient = parseEnvPublicKey(recipientPublicKeyHex);
  if (fixed?.ephemeralPrivateKey && fixed.ephemeralPrivateKey.length !== X25519_KEY_BYTES) {
    throw new RangeError('a fixed ephemeral private key must be 32 bytes');
  }
  if (fixed?.iv && fixed.iv.length !== IV_BYTES) throw new RangeError('a fixed IV must be 12 bytes');

  const plaintext = envPlaintext(env);
  // Our own copy of the ephemeral key, so wiping it never touches a caller's buffer.
  const ephemeralPrivateKey = fixed?.ephemeralPrivateKey
    ? fixed.ephemeralPrivateKey.slice()
    : randomBytes(X25519_KEY_BYTES);
  let shared: Uint8Array | undefined;
  try {
    const ephemeralPublicKey = x25519.getPublicKey(ephemeralPrivateKey);
    shared = x25519SharedSecret(ephemeralPrivateKey, recipient);
    const iv = fixed?.iv ? fixed.iv.slice() : randomBytes(IV_BYTES);
    const key = await importAesGcmKey(shared, 'encrypt');
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: source(iv), tagLength: TAG_BYTES * 8 },
        key,
        source(plaintext),
      ),
    );
    return toHex(concatBytes(ephemeralPublicKey, iv, sealed));
  } finally {
    wipe(ephemeralPrivateKey, shared, plaintext);
  }
}
