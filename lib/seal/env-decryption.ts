import { utf8Decode, wipe } from '../bytes';
import {
  importAesGcmKey,
  validateEnv,
  x25519SharedSecret,
  ENVELOPE_OVERHEAD_BYTES,
  IV_BYTES,
  MAX_ENVELOPE_BYTES,
  TAG_BYTES,
  X25519_KEY_BYTES,
  type EnvVar,
} from './env-encryption';
import { SealError } from './errors';

/**
 * Opens a dstack env envelope the way the guest does (dstack-util crypto.rs `dh_decrypt`, then parse_env_file.rs):
 * for the CVM simulator, which stands in for the guest, and for tests. The product never decrypts an env.
 *
 * Fails closed: a blob shorter than eph_pk ‖ iv ‖ tag, a GCM failure (wrong key, changed bytes, an AAD the
 * sealer should not have used) or a plaintext that is not `{"env":[{key,value},…]}` is an error, never a partial env.
 * @throws SealError envelope_malformed | decrypt_failed | env_invalid | env_too_large
 */
export async function decryptEnv(blobHex: string, recipientPrivateKey: Uint8Array): Promise<EnvVar[]> {
  if (typeof blobHex !== 'string' || blobHex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(blobHex)) {
    throw new SealError('envelope_malformed', 'The sealed env is not hex.');
  }
  const size = blobHex.length / 2;
  if (size < ENVELOPE_OVERHEAD_BYTES) {
    throw new SealError(
      'envelope_malformed',
      `The sealed env is ${size} bytes, shorter than the ${ENVELOPE_OVERHEAD_BYTES}-byte key, IV and tag.`,
    );
  }
  if (size > MAX_ENVELOPE_BYTES) {
    throw new SealError(
      'env_too_large',
      `The sealed env is ${size} bytes; a dstack CVM refuses more than ${MAX_ENVELOPE_BYTES / 1024} KiB.`,
    );
  }
  if (recipientPrivateKey.length !== X25519_KEY_BYTES)
    throw new RangeError('the recipient private key must be 32 bytes');
  const blob = new Uint8Array(size);
  for (let i = 0; i < size; i++) blob[i] = parseInt(blobHex.slice(i * 2, i * 2 + 2), 16);

  const ephemeralPublicKey = blob.subarray(0, X25519_KEY_BYTES);
  const iv = blob.subarray(X25519_KEY_BYTES, X25519_KEY_BYTES + IV_BYTES);
  const sealed = blob.subarray(X25519_KEY_BYTES + IV_BYTES);

  let shared: Uint8Array | undefined;
  let plaintext: Uint8Array | undefined;
  try {
    shared = x25519SharedSecret(recipientPrivateKey, ephemeralPublicKey);
    const key = await importAesGcmKey(shared, 'decrypt');
    try {
      plaintext = new Uint8Array(
        await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv, tagLength: TAG_BYTES * 8 }, key, sealed),
      );
    } catch {
      throw new SealError('decrypt_failed', 'The sealed env does not open with this key (wrong key or changed bytes).');
    }
    return parseEnvPlaintext(plaintext);
  } catch (err) {
    if (err instanceof SealError) throw err;
    throw new SealError('envelope_malformed', 'The sealed env could not be opened.');
  } finally {
    wipe(shared, plaintext, blob);
  }
}

/** The guest's reading of the plaintext: UTF-8 JSON `{"env": [{"key": string, "value": string}, …]}`. */
function parseEnvPlaintext(plaintext: Uint8Array): EnvVar[] {
  let doc: unknown;
  try {
    doc = JSON.parse(utf8Decode(plaintext));
  } catch {
    throw new SealError('env_invalid', 'The sealed env is not UTF-8 JSON.');
  }
  const list = typeof doc === 'object' && doc !== null ? (doc as { env?: unknown }).env : undefined;
  if (!Array.isArray(list))
    throw new SealError('env_invalid', 'The sealed env has no "env" array of {key, value} entries.');
  const env = list.map((entry: unknown, index): EnvVar => {
    const { key, value } = (typeof entry === 'object' && entry !== null ? entry : {}) as Partial<EnvVar>;
    if (typeof key !== 'string' || typeof value !== 'string') {
      throw new SealError('env_invalid', `Entry ${index + 1} of the sealed env is not a {key, value} pair of strings.`);
    }
    return { key, value };
  });
  validateEnv(env);
  return env;
}
