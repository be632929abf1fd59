// @vitest-environment node
/**
 * Property tests for the hub's identity key file, "CKHK" v1 (hub/identity.ts, docs/protocol.md §0):
 * `"CKHK" | 0x01 | Ed25519 seed[32]`, 37 bytes. For every seed: decode(encode(x)) gives the same identity and
 * encode(decode(b)) = b. Anything else is refused with an error naming the file problem, never a TypeError or
 * RangeError, and never a silently different identity.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../lib/bytes';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { fingerprint } from '../../../lib/protocol/keys';
import { decodeIdentityFile, encodeIdentityFile, hubIdentityFromSeed } from '../../../hub/identity';
import { bytes, check, expectBytes, mutations, mutate } from './arbitraries';

const HEAD = Uint8Array.of(0x43, 0x4b, 0x48, 0x4b, 0x01); // "CKHK" | 0x01

/**
 * The file's documented failure: an Error naming the problem. (It is not yet a coded ClawkeepError; the property
 * accepts either, so it holds before and after the error-root change, and refuses the built-in misuse classes.)
 */
function decodeOrRefusal(b: Uint8Array): ReturnType<typeof decodeIdentityFile> | 'refused' {
  try {
    return decodeIdentityFile(b);
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TypeError);
    expect(err).not.toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/hub identity file/);
    return 'refused';
  }
}

describe('CKHK hub identity key file (hub/identity.ts)', () => {
  it('decode(encode(x)) = x and encode(decode(b)) = b for every seed', () => {
    check(
      bytes(32),
      (seed) => {
        const b = encodeIdentityFile(hubIdentityFromSeed(seed));
        expectBytes(b, concatBytes(HEAD, seed));
        const id = decodeIdentityFile(b);
        expectBytes(id.privateKey, seed);
        expectBytes(id.publicKey, ed25519.getPublicKey(seed));
        expect(id.hubKey).toBe(toBase64Url(id.publicKey));
        expect(id.fingerprint).toBe(fingerprint(id.publicKey));
        expectBytes(encodeIdentityFile(id), b);
      },
      100,
    );
  });

  it('random and mutated files: refused with a message, or exactly a 37-byte CKHK v1 file', () => {
    const files = fc.oneof(
      fc.uint8Array({ maxLength: 60 }),
      fc.tuple(bytes(32), mutations).map(([seed, edits]) => mutate(concatBytes(HEAD, seed), edits)),
    );
    check(
      files,
      (b) => {
        const got = decodeOrRefusal(b);
        if (got !== 'refused') {
          expectBytes(b.subarray(0, 5), HEAD);
          expect(b.length).toBe(37);
          expectBytes(got.privateKey, b.subarray(5));
        }
      },
      300,
    );
  });
});
