// @vitest-environment node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import {
  envKeySignatureMessage,
  recoverEnvKeySigner,
  verifyEnvKeySignature,
  MAX_SIGNATURE_AGE_SECONDS,
  MAX_SIGNATURE_FUTURE_SECONDS,
} from '../../../lib/seal/kms-signature';

// Vectors: test/fixtures/sealing/pubkey-signature.json (official dstack SDK vector + synthetic KMS key, see README).
interface SignatureVector {
  name: string;
  app_id: string;
  public_key: string;
  message?: string;
  signature: string;
  signature_v1: string;
  timestamp: number;
  timestamp_be8: string;
  kms_k256_private_TEST_ONLY: string;
  kms_k256_pubkey_compressed: string;
  expected_signer_compressed: string;
  recovered_signer_compressed: string;
  must_not_equal: string;
  accept_at_unix: number;
  reject_at_unix: number;
}
const doc = JSON.parse(readFileSync(resolve(process.cwd(), 'test/fixtures/sealing/pubkey-signature.json'), 'utf8')) as {
  vectors: SignatureVector[];
};
const vector = (name: string): SignatureVector => doc.vectors.find((v) => v.name === name)!;
const legacyOfficial = vector('official-legacy');
const legacy = vector('synthetic-legacy');
const v1 = vector('synthetic-v1');
const tampered = vector('tampered-public-key');
const KMS = legacy.kms_k256_pubkey_compressed;

function expectCode(fn: () => unknown, code: string): Error {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code, (err as Error).message).toBe(code);
    return err as Error;
  }
  throw new Error(`expected a ${code} error`);
}

describe('message layout', () => {
  it('legacy and v1 messages are byte-exact with the vectors', () => {
    for (const v of [legacyOfficial, legacy, tampered]) {
      if (v.message) expect(toHex(envKeySignatureMessage(fromHex(v.app_id), fromHex(v.public_key)))).toBe(v.message);
    }
    expect(toHex(envKeySignatureMessage(fromHex(v1.app_id), fromHex(v1.public_key), v1.timestamp))).toBe(v1.message);
    expect(v1.message).toContain(v1.timestamp_be8);
  });
});

describe('recoverEnvKeySigner', () => {
  it('recovers the official dstack SDK signer (legacy)', () => {
    const signer = recoverEnvKeySigner({
      appId: legacyOfficial.app_id,
      publicKey: legacyOfficial.public_key,
      signature: legacyOfficial.signature,
    });
    expect(toHex(signer)).toBe(legacyOfficial.expected_signer_compressed);
  });

  it('recovers the synthetic KMS key for legacy and v1', () => {
    expect(
      toHex(recoverEnvKeySigner({ appId: legacy.app_id, publicKey: legacy.public_key, signature: legacy.signature })),
    ).toBe(KMS);
    expect(
      toHex(
        recoverEnvKeySigner({
          appId: v1.app_id,
          publicKey: v1.public_key,
          signature: v1.signature_v1,
          timestamp: v1.timestamp,
        }),
      ),
    ).toBe(KMS);
  });

  it('the tampered public key recovers to the recorded other key', () => {
    const signer = recoverEnvKeySigner({
      appId: tampered.app_id,
      publicKey: tampered.public_key,
      signature: tampered.signature,
    });
    expect(toHex(signer)).toBe(tampered.recovered_signer_compressed);
    expect(toHex(signer)).not.toBe(tampered.must_not_equal);
  });

  it('refuses malformed signatures, recovery ids other than 0/1 and high-S twins', () => {
    const base = { appId: legacy.app_id, publicKey: legacy.public_key };
    const sig = legacy.signature;
    for (const signature of [
      sig.slice(0, 128),
      `${sig}00`,
      `0x${sig.slice(2)}`,
      sig.slice(0, 128) + '02',
      sig.slice(0, 128) + '1b',
      '00'.repeat(65),
    ]) {
      expectCode(() => recoverEnvKeySigner({ ...base, signature }), 'signature_invalid');
    }
    // Same (r, n − s) with the other recovery id recovers the same key but is not what the KMS produces.
    const parsed = secp256k1.Signature.fromBytes(fromHex(sig.slice(0, 128)), 'compact');
    const n = secp256k1.Point.Fn.ORDER;
    const highS = new secp256k1.Signature(parsed.r, n - parsed.s).toBytes('compact');
    const flipped = `${toHex(highS)}${sig.endsWith('00') ? '01' : '00'}`;
    expectCode(() => recoverEnvKeySigner({ ...base, signature: flipped }), 'signature_invalid');
    expectCode(() => recoverEnvKeySigner({ ...base, appId: base.appId.slice(2), signature: sig }), 'signature_invalid');
    expectCode(
      () => recoverEnvKeySigner({ ...base, publicKey: `${base.publicKey}00`, signature: sig }),
      'pubkey_invalid',
    );
  });
});

describe('verifyEnvKeySignature', () => {
  const legacyInput = {
    appId: legacy.app_id,
    publicKey: legacy.public_key,
    signature: legacy.signature,
    trustedK256Pubkey: KMS,
  };
  const v1Input = {
    appId: v1.app_id,
    publicKey: v1.public_key,
    signature: v1.signature_v1,
    timestamp: v1.timestamp,
    trustedK256Pubkey: KMS,
  };

  it('accepts legacy signatures from the trusted KMS (compressed or uncompressed, any case)', () => {
    expect(() => verifyEnvKeySignature(legacyInput)).not.toThrow();
    expect(() => verifyEnvKeySignature({ ...legacyInput, trustedK256Pubkey: KMS.toUpperCase() })).not.toThrow();
    const uncompressed = toHex(secp256k1.Point.fromHex(KMS).toBytes(false));
    expect(() => verifyEnvKeySignature({ ...legacyInput, trustedK256Pubkey: uncompressed })).not.toThrow();
    expect(() =>
      verifyEnvKeySignature({
        appId: legacyOfficial.app_id,
        publicKey: legacyOfficial.public_key,
        signature: legacyOfficial.signature,
        trustedK256Pubkey: legacyOfficial.expected_signer_compressed,
      }),
    ).not.toThrow();
  });

  it('refuses the tampered key, another app id, a v1 signature read as legacy, and another KMS', () => {
    expectCode(() => verifyEnvKeySignature({ ...legacyInput, publicKey: tampered.public_key }), 'signature_invalid');
    expectCode(() => verifyEnvKeySignature({ ...legacyInput, appId: '00'.repeat(20) }), 'signature_invalid');
    expectCode(
      () =>
        verifyEnvKeySignature({
          appId: v1.app_id,
          publicKey: v1.public_key,
          signature: v1.signature_v1,
          trustedK256Pubkey: KMS,
          now: v1.accept_at_unix * 1000,
        }),
      'signature_invalid',
    );
    expectCode(() => verifyEnvKeySignature({ ...legacyInput, signature: v1.signature_v1 }), 'signature_invalid');
    const err = expectCode(
      () => verifyEnvKeySignature({ ...legacyInput, trustedK256Pubkey: legacyOfficial.expected_signer_compressed }),
      'signature_invalid',
    );
    expect(err.message).toMatch(/not signed by the trusted KMS/);
    expectCode(
      () => verifyEnvKeySignature({ ...legacyInput, trustedK256Pubkey: '04'.padEnd(66, '0') }),
      'signature_invalid',
    );
  });

  it('v1: accepts at the vector’s accept time and refuses at its reject time', () => {
    expect(() => verifyEnvKeySignature({ ...v1Input, now: v1.accept_at_unix * 1000 })).not.toThrow();
    expectCode(() => verifyEnvKeySignature({ ...v1Input, now: new Date(v1.reject_at_unix * 1000) }), 'signature_stale');
  });

  it('v1: freshness bounds are 300 s in the past and 60 s in the future, inclusive', () => {
    const at = (seconds: number) => ({ ...v1Input, now: (v1.timestamp + seconds) * 1000 });
    expect(() => verifyEnvKeySignature(at(MAX_SIGNATURE_AGE_SECONDS))).not.toThrow();
    expectCode(() => verifyEnvKeySignature(at(MAX_SIGNATURE_AGE_SECONDS + 1)), 'signature_stale');
    expect(() => verifyEnvKeySignature(at(-MAX_SIGNATURE_FUTURE_SECONDS))).not.toThrow();
    const future = expectCode(() => verifyEnvKeySignature(at(-MAX_SIGNATURE_FUTURE_SECONDS - 1)), 'signature_stale');
    expect(future.message).toMatch(/future/);
  });

  it('v1: a changed timestamp does not verify (it is signed)', () => {
    expectCode(
      () => verifyEnvKeySignature({ ...v1Input, timestamp: v1.timestamp + 1, now: v1.accept_at_unix * 1000 }),
      'signature_invalid',
    );
    expectCode(() => verifyEnvKeySignature({ ...v1Input, timestamp: -1 }), 'signature_invalid');
    expectCode(() => verifyEnvKeySignature({ ...v1Input, timestamp: 1.5 }), 'signature_invalid');
  });

  it('signs fresh v1 signatures with a KMS key of ours and verifies them (same layout end to end)', () => {
    const kmsPrivate = fromHex(v1.kms_k256_private_TEST_ONLY);
    const timestamp = 2_000_000_000;
    const message = envKeySignatureMessage(fromHex(v1.app_id), fromHex(v1.public_key), timestamp);
    const recovered = secp256k1.sign(keccak_256(message), kmsPrivate, { prehash: false, format: 'recovered' });
    // noble puts the recovery byte first; dstack puts it last.
    const signature = toHex(recovered.subarray(1)) + toHex(recovered.subarray(0, 1));
    expect(() => verifyEnvKeySignature({ ...v1Input, signature, timestamp, now: timestamp * 1000 })).not.toThrow();
  });
});
