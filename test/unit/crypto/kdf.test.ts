// @vitest-environment node
import { argon2id as nobleArgon2id } from '@noble/hashes/argon2.js';
import { argon2id as wasmArgon2id } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../../lib/bytes';
import { deriveKey, pbkdf2Sha256 } from '../../../lib/crypto/kdf';
import { assertKdfParams, DEFAULT_ARGON2ID, DEFAULT_PBKDF2 } from '../../../lib/crypto/kdf-params';
import argonVectors from '../../vectors/argon2id.json';
import pbkdf2Vectors from '../../vectors/pbkdf2-sha256.json';

describe('Argon2id', () => {
  // Our own engine on this vector (both paths): test/unit/crypto/argon2/argon2.test.ts.
  it('RFC 9106 §5.3 vector (secret + associated data) holds for the oracle the Argon2id tests use', async () => {
    const v = argonVectors.rfc9106;
    const opts = {
      t: v.iterations,
      m: v.memoryKiB,
      p: v.parallelism,
      dkLen: 32,
      key: fromHex(v.secret),
      personalization: fromHex(v.associatedData),
    };
    expect(toHex(nobleArgon2id(fromHex(v.password), fromHex(v.salt), opts))).toBe(v.tag);
  });

  it.each(argonVectors.vectors)(
    'deriveKey matches the reference CLI: m=$memoryKiB t=$iterations p=$parallelism',
    async (v) => {
      const params = {
        algorithm: 'argon2id' as const,
        memoryKiB: v.memoryKiB,
        iterations: v.iterations,
        parallelism: v.parallelism,
      };
      expect(toHex(await deriveKey(fromHex(v.password), fromHex(v.salt), params))).toBe(v.tag);
    },
  );

  it('deriveKey, hash-wasm and noble agree on a vector (three implementations)', async () => {
    const v = argonVectors.vectors[0]!;
    const ours = toHex(
      await deriveKey(fromHex(v.password), fromHex(v.salt), {
        algorithm: 'argon2id',
        memoryKiB: v.memoryKiB,
        iterations: v.iterations,
        parallelism: v.parallelism,
      }),
    );
    const wasm = await wasmArgon2id({
      password: fromHex(v.password),
      salt: fromHex(v.salt),
      iterations: v.iterations,
      memorySize: v.memoryKiB,
      parallelism: v.parallelism,
      hashLength: 32,
      outputType: 'hex',
    });
    const noble = toHex(
      nobleArgon2id(fromHex(v.password), fromHex(v.salt), {
        t: v.iterations,
        m: v.memoryKiB,
        p: v.parallelism,
        dkLen: 32,
      }),
    );
    expect(wasm).toBe(noble);
    expect(ours).toBe(noble);
  });
});

describe('PBKDF2-HMAC-SHA256', () => {
  it.each(pbkdf2Vectors.vectors)('$source, c=$iterations', async (v) => {
    expect(toHex(await pbkdf2Sha256(fromHex(v.password), fromHex(v.salt), v.iterations, v.dkLen))).toBe(v.dk);
  });

  it('deriveKey uses it for the pbkdf2-sha256 algorithm', async () => {
    const v = pbkdf2Vectors.vectors[2]!;
    expect(
      toHex(
        await deriveKey(fromHex(v.password), fromHex(v.salt), { algorithm: 'pbkdf2-sha256', iterations: v.iterations }),
      ),
    ).toBe(v.dk);
  });
});

describe('KDF parameter floors and ceilings', () => {
  it('accepts the defaults', () => {
    expect(() => assertKdfParams(DEFAULT_ARGON2ID)).not.toThrow();
    expect(() => assertKdfParams(DEFAULT_PBKDF2)).not.toThrow();
  });

  it.each([
    [{ algorithm: 'argon2id', memoryKiB: 8192, iterations: 3, parallelism: 4 }, /below the minimum/],
    [{ algorithm: 'argon2id', memoryKiB: 65536, iterations: 1, parallelism: 4 }, /below the minimum/],
    [{ algorithm: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 0 }, /below the minimum/],
    [{ algorithm: 'argon2id', memoryKiB: 4 * 1024 * 1024, iterations: 3, parallelism: 4 }, /above the maximum/],
    [{ algorithm: 'argon2id', memoryKiB: 65536, iterations: 1000, parallelism: 4 }, /above the maximum/],
    [{ algorithm: 'argon2id', memoryKiB: 65536.5, iterations: 3, parallelism: 4 }, /whole number/],
    [{ algorithm: 'pbkdf2-sha256', iterations: 5000 }, /below the minimum/],
    [{ algorithm: 'pbkdf2-sha256', iterations: 1e9 }, /above the maximum/],
    [{ algorithm: 'scrypt', iterations: 1 }, /Unknown/],
  ])('rejects %j', async (params, message) => {
    const err = await deriveKey(utf8Encode('pw'), new Uint8Array(16), params as never).catch((e) => e);
    expect(err.code).toBe('kdf_params_out_of_range');
    expect(err.message).toMatch(message);
  });
});
