// @vitest-environment node
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../../lib/bytes';
import {
  ed25519SignerFromSeed,
  signEd25519Sync,
  verifyEd25519,
  verifyEd25519Sync,
} from '../../../lib/protocol/ed25519';
import { useNodeEd25519 } from '../../../hub/ed25519-node';

// The group order L (RFC 8032 §5.1) and a point of order 8 (a torsion point; libsodium's small-order blocklist).
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const ORDER_8_POINT = fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');

const le32 = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const fromLe = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);

/** Node's (OpenSSL's) cofactorless verdict, for showing what the platform alone would answer. */
function opensslVerifies(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pk).toString('base64url') },
    format: 'jwk',
  });
  return nodeVerify(null, msg, key, sig);
}

/**
 * A signature whose R carries a torsion component: R' = rB + T with T of order 8, S = r + H(R'‖A‖M)·a. The
 * cofactored equation (noble strict, RFC 8032 §5.1.7 as written) holds; the cofactorless one (OpenSSL) does not.
 * Only the key's holder can make one. It is the case where the platform and noble disagree.
 */
function torsionSignature(seed: Uint8Array, msg: Uint8Array): Uint8Array {
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
  const r = (fromLe(sha512(concatBytes(seed, msg)).subarray(0, 32)) % (L - 1n)) + 1n;
  const R = ed25519.Point.BASE.multiply(r).add(ed25519.Point.fromBytes(ORDER_8_POINT));
  const rBytes = R.toBytes();
  const k = fromLe(sha512(concatBytes(rBytes, pointBytes, msg))) % L;
  return concatBytes(rBytes, le32((r + k * scalar) % L));
}

function strictAnswers(): void {
  it('a valid signature verifies on both paths; every single-bit change fails on both (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat({ max: 64 * 8 - 1 }),
        async (seed, msg, bit) => {
          const pk = ed25519.getPublicKey(seed);
          const sig = ed25519.sign(msg, seed);
          expect(await verifyEd25519(sig, msg, pk)).toBe(true);
          const bad = sig.slice();
          bad[bit >> 3]! ^= 1 << (bit & 7);
          expect(await verifyEd25519(bad, msg, pk)).toBe(verifyEd25519Sync(bad, msg, pk));
          expect(await verifyEd25519(bad, msg, pk)).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a signature with a torsion component gets noble strict answer (true), not the platform cofactorless false', async () => {
    const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const msg = new TextEncoder().encode('clawkeep torsion case');
    const pk = ed25519.getPublicKey(seed);
    const sig = torsionSignature(seed, msg);
    expect(opensslVerifies(sig, msg, pk)).toBe(false); // so the platform alone would have answered differently
    expect(verifyEd25519Sync(sig, msg, pk)).toBe(true);
    expect(await verifyEd25519(sig, msg, pk)).toBe(true);
  });

  it('S + L (a non-reduced scalar), a small-order key and malformed lengths are refused on both paths', async () => {
    const seed = fromHex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
    const msg = fromHex('72');
    const pk = ed25519.getPublicKey(seed);
    const sig = ed25519.sign(msg, seed);
    const s = fromLe(sig.subarray(32));
    const unreduced = concatBytes(sig.subarray(0, 32), le32(s + L));
    expect(verifyEd25519Sync(unreduced, msg, pk)).toBe(false);
    expect(await verifyEd25519(unreduced, msg, pk)).toBe(false);

    const identity = fromHex('0100000000000000000000000000000000000000000000000000000000000000');
    const forged = concatBytes(identity, new Uint8Array(32)); // R = identity, S = 0 verifies under A = identity
    expect(await verifyEd25519(forged, msg, identity)).toBe(false);
    expect(await verifyEd25519(sig, msg, ORDER_8_POINT)).toBe(false);
    expect(await verifyEd25519(sig.subarray(0, 63), msg, pk)).toBe(false);
    expect(await verifyEd25519(sig, msg, pk.subarray(0, 31))).toBe(false);
  });

  it('RFC 8032 §7.1 test 2 verifies', async () => {
    const pk = fromHex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
    const sig = fromHex(
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    );
    expect(await verifyEd25519(sig, fromHex('72'), pk)).toBe(true);
    expect(await verifyEd25519(sig, fromHex('73'), pk)).toBe(false);
  });

  it('the seed signer gives the RFC 8032 signature (deterministic) and leaves the caller seed as it was', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 300 }),
        async (seed, msg) => {
          const before = toHex(seed);
          const signer = ed25519SignerFromSeed(seed);
          expect(toHex(await signer.sign(msg))).toBe(toHex(ed25519.sign(msg, seed)));
          expect(toHex(await signer.sign(msg))).toBe(toHex(ed25519.sign(msg, seed)));
          expect(toHex(seed)).toBe(before);
        },
      ),
      { numRuns: 40 },
    );
    expect(() => ed25519SignerFromSeed(new Uint8Array(31))).toThrow(RangeError);
  });

  it('the synchronous signer gives the RFC 8032 signature and leaves the seed as it was (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, msg) => {
        const before = toHex(seed);
        expect(toHex(signEd25519Sync(msg, seed))).toBe(toHex(ed25519.sign(msg, seed)));
        expect(toHex(seed)).toBe(before);
      }),
      { numRuns: 40 },
    );
    expect(() => signEd25519Sync(new Uint8Array(1), new Uint8Array(33))).toThrow(RangeError);
  });
}

describe('Ed25519 on WebCrypto (browsers, and Node before the hub lends OpenSSL), with the strict answers noble gives', () => {
  strictAnswers();
});

describe("Ed25519 on Node's OpenSSL (what the hub and the CLI install), with the strict answers noble gives", () => {
  beforeAll(() => useNodeEd25519());
  strictAnswers();
});
