// @vitest-environment node
/**
 * Property tests for lib/seal, the formats Clawkeep exchanges with a dstack CVM (specs/sealing-to-cvm.md §1): the
 * encrypted env envelope `eph_pk(32) ‖ iv(12) ‖ AES-256-GCM(ct ‖ tag)` as hex (env-encryption.ts, opened as the
 * guest does by env-decryption.ts) and the KMS signature over an app's env key, legacy and v1 (timestamped)
 * layouts (kms-signature.ts). Round trips for generated envs and keys, an independent node:crypto opening of the
 * envelope, and SealError only for mutated envelopes, random text and junk signatures.
 */
import { createDecipheriv } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Decode, utf8Encode } from '../../../lib/bytes';
import { decryptEnv } from '../../../lib/seal/env-decryption';
import { encryptEnv, validateEnv, type EnvVar } from '../../../lib/seal/env-encryption';
import { SealError } from '../../../lib/seal/errors';
import { envKeySignatureMessage, recoverEnvKeySigner, verifyEnvKeySignature } from '../../../lib/seal/kms-signature';
import {
  bytes,
  check,
  checkAsync,
  mutations,
  mutate,
  typedOnly,
  typedOnlyAsync,
  unicodeString,
  x25519KeyPair,
} from './arbitraries';

/** Every env the guest accepts (a few entries here): shell names, unique, values any Unicode text without NUL. */
const env: fc.Arbitrary<EnvVar[]> = fc.uniqueArray(
  fc.record({
    key: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,40}$/),
    value: unicodeString({ maxLength: 80 }).filter((v) => !v.includes('\0')),
  }),
  { selector: (e) => e.key, maxLength: 6 },
);
/** X25519 recipients that are not low-order (a random key is, with negligible probability). */
const recipient = x25519KeyPair;

/** The guest's reading, written independently with node:crypto: DH output as the AES-256-GCM key, no AAD. */
function modelOpen(blob: Uint8Array, recipientPrivate: Uint8Array): string {
  const key = x25519.getSharedSecret(recipientPrivate, blob.subarray(0, 32));
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(32, 44));
  decipher.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([decipher.update(blob.subarray(44, blob.length - 16)), decipher.final()]).toString('utf8');
}

describe('dstack env envelope (env-encryption.ts, env-decryption.ts)', () => {
  it('decrypt(encrypt(env)) = env; the envelope is eph_pk ‖ iv ‖ AES-GCM({"env":[...]}) as lowercase hex', async () => {
    await checkAsync(
      fc.record({ env, r: recipient, eph: bytes(32), iv: bytes(12) }),
      async ({ env, r, eph, iv }) => {
        const hex = await encryptEnv(env, toHex(r.pub), { ephemeralPrivateKey: eph, iv });
        expect(hex).toMatch(/^[0-9a-f]*$/);
        const blob = fromHex(hex);
        expect(toHex(blob.subarray(0, 32))).toBe(toHex(x25519.getPublicKey(eph)));
        expect(toHex(blob.subarray(32, 44))).toBe(toHex(iv));
        expect(modelOpen(blob, r.priv)).toBe(JSON.stringify({ env: env.map(({ key, value }) => ({ key, value })) }));
        expect(await decryptEnv(hex, r.priv)).toEqual(env);
      },
      60,
    );
  });

  it('mutated envelopes and random text: SealError only, and a changed envelope never opens', async () => {
    const sealed = fc.record({ env, r: recipient });
    await checkAsync(
      fc.tuple(sealed, mutations),
      async ([{ env, r }, edits]) => {
        const hex = await encryptEnv(env, toHex(r.pub));
        const m = toHex(mutate(fromHex(hex), edits));
        if (
          (await typedOnlyAsync(() => decryptEnv(m, r.priv), SealError, [
            'envelope_malformed',
            'decrypt_failed',
            'env_invalid',
            'env_too_large',
          ])) === 'ok'
        )
          expect(m).toBe(hex);
      },
      100,
    );
    await checkAsync(
      fc.tuple(
        fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 120 }).map(toHex), fc.anything()),
        recipient,
      ),
      async ([text, r]) => {
        await typedOnlyAsync(() => decryptEnv(text as string, r.priv), SealError, [
          'envelope_malformed',
          'decrypt_failed',
          'env_invalid',
          'env_too_large',
        ]);
      },
      200,
    );
  });

  it('an authentic envelope around any JSON: the env only if it is one the guest accepts, else SealError', async () => {
    // What a sealer other than ours could put inside a valid envelope.
    const doc = fc.oneof(
      fc.jsonValue(),
      fc.record({
        env: fc.array(
          fc.record(
            { key: fc.oneof(fc.string({ maxLength: 10 }), fc.jsonValue()), value: fc.jsonValue() },
            { requiredKeys: [] },
          ),
          { maxLength: 4 },
        ),
      }),
    );
    await checkAsync(
      fc.tuple(doc, recipient, bytes(32), bytes(12)),
      async ([d, r, eph, iv]) => {
        const key = x25519.getSharedSecret(eph, r.pub);
        const aes = await crypto.subtle.importKey('raw', key as BufferSource, 'AES-GCM', false, ['encrypt']);
        const ct = new Uint8Array(
          await crypto.subtle.encrypt(
            { name: 'AES-GCM', iv: iv as BufferSource },
            aes,
            utf8Encode(JSON.stringify(d) ?? 'null') as BufferSource,
          ),
        );
        const hex = toHex(concatBytes(x25519.getPublicKey(eph), iv, ct));
        await typedOnlyAsync(() => decryptEnv(hex, r.priv), SealError, ['env_invalid', 'env_too_large']);
      },
      100,
    );
  });

  it('validateEnv on any value: SealError only', () => {
    check(
      fc.oneof(
        fc.anything(),
        fc.array(fc.record({ key: fc.anything(), value: fc.anything() }, { requiredKeys: [] }), { maxLength: 4 }),
      ),
      (v) => {
        typedOnly(() => validateEnv(v as EnvVar[]), SealError, ['env_invalid', 'env_too_large']);
      },
      300,
    );
  });
});

describe('KMS signature over an env key (kms-signature.ts)', () => {
  const kms = bytes(32).filter((k) => secp256k1.utils.isValidSecretKey(k));
  const input = fc.record({
    kms,
    appId: bytes(20),
    publicKey: bytes(32),
    timestamp: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
  });

  it('the message is the documented layout; a KMS signature recovers to the KMS key and verifies (legacy and v1)', () => {
    check(
      input,
      ({ kms, appId, publicKey, timestamp }) => {
        const message = envKeySignatureMessage(appId, publicKey, timestamp);
        const time =
          timestamp === undefined
            ? new Uint8Array(0)
            : (() => {
                const t = new Uint8Array(8);
                new DataView(t.buffer).setBigUint64(0, BigInt(timestamp));
                return t;
              })();
        expect(toHex(message)).toBe(
          toHex(concatBytes(utf8Encode('dstack-env-encrypt-pubkey:'), appId, time, publicKey)),
        );
        expect(utf8Decode(message.subarray(0, 26))).toBe('dstack-env-encrypt-pubkey:');
        const sig = secp256k1.sign(keccak_256(message), kms, { prehash: false, format: 'recovered' });
        // noble's recovered format is recovery ‖ r ‖ s; dstack's is r ‖ s ‖ recovery.
        const signature = toHex(concatBytes(sig.subarray(1), sig.subarray(0, 1)));
        const fields = { appId: toHex(appId), publicKey: toHex(publicKey), signature, timestamp };
        const kmsKey = secp256k1.getPublicKey(kms, true);
        expect(toHex(recoverEnvKeySigner(fields))).toBe(toHex(kmsKey));
        verifyEnvKeySignature({ ...fields, trustedK256Pubkey: toHex(kmsKey), now: (timestamp ?? 0) * 1000 });
      },
      40,
    );
  });

  it('junk signatures, keys and ids: SealError only', () => {
    const hexOf = (n: number) => fc.oneof(bytes(n).map(toHex), fc.string({ maxLength: n * 2 + 2 }));
    const junk = fc.record({
      appId: hexOf(20),
      publicKey: hexOf(32),
      signature: hexOf(65),
      timestamp: fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined }),
      trusted: hexOf(33),
    });
    check(
      junk,
      (j) => {
        typedOnly(() => verifyEnvKeySignature({ ...j, trustedK256Pubkey: j.trusted, now: 0 }), SealError, [
          'signature_invalid',
          'signature_stale',
          'pubkey_invalid',
        ]);
      },
      200,
    );
  });
});
