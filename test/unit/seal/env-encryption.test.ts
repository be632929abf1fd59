// @vitest-environment node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../lib/bytes';
import {
  encryptEnv,
  envPlaintext,
  parseEnvPublicKey,
  validateEnv,
  MAX_ENV_PLAINTEXT_BYTES,
  MAX_ENV_VALUE_BYTES,
  MAX_ENV_VARS,
  type EnvVar,
} from '../../../lib/seal/env-encryption';
import { decryptEnv } from '../../../lib/seal/env-decryption';
import { referenceDecrypt } from './reference';
import { x25519 } from '@noble/curves/ed25519.js';

// Vectors: test/fixtures/sealing/env-encryption.json (see its README: produced by @phala/dstack-sdk with pinned
// RNG, cross-checked with node:crypto and Python `cryptography`).
const FIXTURES = resolve(process.cwd(), 'test/fixtures/sealing');
interface PositiveVector {
  name: string;
  recipient_x25519_private: string;
  recipient_x25519_public: string;
  env: EnvVar[];
  plaintext_utf8: string;
  ephemeral_x25519_private: string;
  ephemeral_x25519_public: string;
  iv: string;
  output_hex: string;
  output_len: number;
}
interface NegativeVector {
  name: string;
  expect: string;
  recipient_x25519_private: string;
  output_hex: string;
}
const vectors = JSON.parse(readFileSync(resolve(FIXTURES, 'env-encryption.json'), 'utf8')) as {
  vectors: PositiveVector[];
  negative_vectors: NegativeVector[];
};

async function expectSealError(fn: () => unknown, code: string): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    expect((err as { code?: string }).code, (err as Error).message).toBe(code);
    return err as Error;
  }
  throw new Error(`expected a ${code} error`);
}

describe('encryptEnv: positive vectors', () => {
  it('covers all three vectors', () => expect(vectors.vectors.map((v) => v.name)).toHaveLength(3));

  for (const v of vectors.vectors) {
    it(`${v.name}: byte-exact with fixed ephemeral key and IV`, async () => {
      expect(new TextDecoder().decode(envPlaintext(v.env))).toBe(v.plaintext_utf8);
      const out = await encryptEnv(v.env, v.recipient_x25519_public, {
        ephemeralPrivateKey: fromHex(v.ephemeral_x25519_private),
        iv: fromHex(v.iv),
      });
      expect(out).toBe(v.output_hex);
      expect(out.length / 2).toBe(v.output_len);
    });

    it(`${v.name}: decryptEnv opens the recorded envelope to the env`, async () => {
      expect(await decryptEnv(v.output_hex, fromHex(v.recipient_x25519_private))).toEqual(v.env);
    });
  }

  it('does not wipe or keep the caller’s fixed inputs', async () => {
    const v = vectors.vectors[0]!;
    const eph = fromHex(v.ephemeral_x25519_private);
    const iv = fromHex(v.iv);
    await encryptEnv(v.env, v.recipient_x25519_public, { ephemeralPrivateKey: eph, iv });
    expect(eph).toEqual(fromHex(v.ephemeral_x25519_private));
    expect(iv).toEqual(fromHex(v.iv));
  });

  it('random envelopes differ each time, open with an independent decryptor, and have the dstack layout', async () => {
    const v = vectors.vectors[1]!;
    const a = await encryptEnv(v.env, v.recipient_x25519_public);
    const b = await encryptEnv(v.env, v.recipient_x25519_public);
    expect(a).not.toBe(b);
    expect(a.slice(0, 64)).not.toBe(b.slice(0, 64)); // fresh ephemeral key
    expect(a.slice(64, 88)).not.toBe(b.slice(64, 88)); // fresh IV
    expect(a).toMatch(/^[0-9a-f]+$/);
    expect(a.length / 2).toBe(32 + 12 + Buffer.byteLength(v.plaintext_utf8) + 16);
    for (const blob of [a, b]) {
      expect(referenceDecrypt(blob, v.recipient_x25519_private)).toBe(v.plaintext_utf8);
    }
  });

  it('seals only key and value, whatever else the entries carry', async () => {
    const v = vectors.vectors[0]!;
    const withExtra = [{ ...v.env[0]!, description: 'not sealed' }];
    const out = await encryptEnv(withExtra, v.recipient_x25519_public, {
      ephemeralPrivateKey: fromHex(v.ephemeral_x25519_private),
      iv: fromHex(v.iv),
    });
    expect(out).toBe(v.output_hex);
  });
});

describe('decryptEnv: negative vectors', () => {
  const byExpectation: Record<string, string> = {
    decrypt_fails_gcm_tag: 'decrypt_failed',
    reject_before_decrypt: 'envelope_malformed',
  };
  it('covers all four negatives', () => expect(vectors.negative_vectors).toHaveLength(4));

  for (const n of vectors.negative_vectors) {
    it(`rejects ${n.name}`, async () => {
      const code = byExpectation[n.expect] ?? (n.expect.startsWith('decrypts_but') ? 'env_invalid' : undefined);
      expect(code, n.expect).toBeDefined();
      await expectSealError(() => decryptEnv(n.output_hex, fromHex(n.recipient_x25519_private)), code!);
    });
  }

  it('rejects non-hex, odd-length and oversized blobs, and the wrong recipient key', async () => {
    const v = vectors.vectors[0]!;
    const key = fromHex(v.recipient_x25519_private);
    await expectSealError(() => decryptEnv(`${v.output_hex}0`, key), 'envelope_malformed');
    await expectSealError(() => decryptEnv(`zz${v.output_hex.slice(2)}`, key), 'envelope_malformed');
    await expectSealError(() => decryptEnv('00'.repeat(256 * 1024 + 1), key), 'env_too_large');
    await expectSealError(
      () => decryptEnv(v.output_hex, fromHex(vectors.vectors[1]!.recipient_x25519_private)),
      'decrypt_failed',
    );
    // An all-zero ephemeral key (a low-order point) is refused before any AES work.
    await expectSealError(() => decryptEnv(`${'00'.repeat(32)}${v.output_hex.slice(64)}`, key), 'pubkey_invalid');
  });

  it('rejects plaintexts that are not {"env":[{key,value}]} (sealed here with the reference layout)', async () => {
    const { createCipheriv, randomBytes } = await import('node:crypto');
    const recipientPrivate = vectors.vectors[0]!.recipient_x25519_private;
    const recipientPublic = x25519.getPublicKey(fromHex(recipientPrivate));
    const seal = (text: string): string => {
      const eph = x25519.utils.randomSecretKey();
      const shared = x25519.getSharedSecret(eph, recipientPublic);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', shared, iv);
      const ct = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return Buffer.concat([x25519.getPublicKey(eph), iv, ct, cipher.getAuthTag()]).toString('hex');
    };
    const key = fromHex(recipientPrivate);
    expect(await decryptEnv(seal('{"env":[{"key":"A","value":"1"}]}'), key)).toEqual([{ key: 'A', value: '1' }]);
    for (const bad of [
      'not json',
      '{"env":"A=1"}',
      '[]',
      'null',
      '{"env":[{"key":"A"}]}',
      '{"env":[{"key":"1A","value":"x"}]}',
      '{"env":[{"key":"A","value":1}]}',
    ]) {
      await expectSealError(() => decryptEnv(seal(bad), key), 'env_invalid');
    }
  });
});

describe('validateEnv and the recipient key', () => {
  const pub = vectors.vectors[0]!.recipient_x25519_public;

  it('accepts the guest’s key grammar and refuses everything else', async () => {
    expect(() =>
      validateEnv([
        { key: '_a9', value: '' },
        { key: 'Z', value: 'x' },
      ]),
    ).not.toThrow();
    for (const key of ['', '9A', 'A-B', 'A B', 'A=B', 'ÄPI', 'A\n', 'a'.repeat(256)]) {
      await expectSealError(() => encryptEnv([{ key, value: 'v' }], pub), 'env_invalid');
    }
    expect(() => validateEnv([{ key: 'a'.repeat(255), value: '' }])).not.toThrow();
  });

  it('refuses duplicates, non-strings, NUL and lone surrogates; never echoes the value', async () => {
    const secret = 'sk-live-SECRET-VALUE';
    const cases: unknown[] = [
      [
        { key: 'A', value: secret },
        { key: 'A', value: secret },
      ],
      [{ key: 'A', value: 1 }],
      [{ key: 'A', value: `${secret}\0` }],
      [{ key: 'A', value: `${secret}\uD800` }],
      [{ key: 'A', value: `\uDC00${secret}` }],
      [null],
      { A: secret },
    ];
    for (const env of cases) {
      const err = await expectSealError(() => encryptEnv(env as EnvVar[], pub), 'env_invalid');
      expect(err.message).not.toContain(secret);
    }
    expect(() => validateEnv([{ key: 'A', value: '😀 paired surrogates are fine' }])).not.toThrow();
  });

  it('enforces the count, value and envelope size limits', async () => {
    const many = Array.from({ length: MAX_ENV_VARS + 1 }, (_, i) => ({ key: `K${i}`, value: '' }));
    await expectSealError(() => encryptEnv(many, pub), 'env_too_large');
    expect(() => validateEnv(many.slice(0, MAX_ENV_VARS))).not.toThrow();

    expect(() => validateEnv([{ key: 'A', value: 'x'.repeat(MAX_ENV_VALUE_BYTES) }])).not.toThrow();
    await expectSealError(
      () => encryptEnv([{ key: 'A', value: 'x'.repeat(MAX_ENV_VALUE_BYTES + 1) }], pub),
      'env_too_large',
    );
    // Multi-byte characters count in UTF-8 bytes, as the guest counts them.
    await expectSealError(
      () => encryptEnv([{ key: 'A', value: '界'.repeat(MAX_ENV_VALUE_BYTES / 3 + 1) }], pub),
      'env_too_large',
    );

    // Two values each under the per-value cap but together over the envelope cap.
    const half = 'x'.repeat(MAX_ENV_VALUE_BYTES);
    await expectSealError(
      () =>
        encryptEnv(
          [
            { key: 'A', value: half },
            { key: 'B', value: half },
          ],
          pub,
        ),
      'env_too_large',
    );
    // Exactly at the cap: the envelope is 256 KiB.
    const overhead = JSON.stringify({
      env: [
        { key: 'A', value: '' },
        { key: 'B', value: '' },
      ],
    }).length;
    const fill = MAX_ENV_PLAINTEXT_BYTES - overhead - MAX_ENV_VALUE_BYTES;
    const atCap = [
      { key: 'A', value: half },
      { key: 'B', value: 'y'.repeat(fill) },
    ];
    expect(envPlaintext(atCap).length).toBe(MAX_ENV_PLAINTEXT_BYTES);
    expect((await encryptEnv(atCap, pub)).length / 2).toBe(256 * 1024);
  });

  it('takes the public key as exactly 64 hex digits', async () => {
    const env = [{ key: 'A', value: 'v' }];
    for (const key of [`0x${pub}`, pub.slice(2), `${pub}00`, ` ${pub}`, `${pub.slice(0, 63)}g`, '', `${pub}\n`]) {
      await expectSealError(() => encryptEnv(env, key), 'pubkey_invalid');
    }
    expect(parseEnvPublicKey(pub.toUpperCase())).toEqual(fromHex(pub));
  });

  it('refuses low-order recipient keys (all-zero shared secret)', async () => {
    const env = [{ key: 'A', value: 'v' }];
    const lowOrder = [
      '00'.repeat(32),
      '01'.padEnd(64, '0'),
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ];
    for (const key of lowOrder) await expectSealError(() => encryptEnv(env, key), 'pubkey_invalid');
  });
});
