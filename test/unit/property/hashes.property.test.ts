// @vitest-environment node
/**
 * Property tests for the hash constructions of docs/protocol.md §0 that are not a statement or a blob: the audit
 * tree (audit-tree.ts, RFC 9162 §2.1 with interior prefix 0x01), key fingerprints and device key ids (keys.ts),
 * the claim and pairing code hashes, and the vault items hash (vault-items-hash.ts). Each is checked against a
 * model written here from the domain strings and the RFC; the audit tree also over sizes up to 2^53 - 1, on a tree
 * whose leaves are all equal (so any subtree's root depends only on its size and is cheap to compute).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8Encode } from '../../../lib/bytes';
import { auditConsistencyProof, auditTreeRoot, verifyAuditConsistency } from '../../../lib/protocol/audit-tree';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { canonicalBytes } from '../../../lib/protocol/canonical';
import { CLAIM_CODE_ALPHABET, claimCodeHash } from '../../../lib/protocol/claim-code';
import { pairingCodeHash } from '../../../lib/protocol/device-pairing';
import { deviceKeyId, fingerprint } from '../../../lib/protocol/keys';
import { itemsHash, type SyncedEntry } from '../../../lib/protocol/vault-items-hash';
import { bytes, check, ed25519PublicKey, expectBytes, sha256Hex } from './arbitraries';

// ---- audit tree ------------------------------------------------------------------------------------------------

const node = (l: Uint8Array, r: Uint8Array) => sha256(concatBytes(Uint8Array.of(1), l, r));
/** RFC 9162 §2.1.1: k is the largest power of two smaller than n. */
const largestPow2Below = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

/** MTH and PROOF (RFC 9162 §2.1.1, §2.1.4.1) of a tree of `size` equal leaves, memoized by size. */
function uniformTree(leaf: Uint8Array) {
  const roots = new Map<number, Uint8Array>();
  const mth = (n: number): Uint8Array => {
    if (n === 1) return leaf;
    let r = roots.get(n);
    if (!r) {
      const k = largestPow2Below(n);
      r = node(mth(k), mth(n - k));
      roots.set(n, r);
    }
    return r;
  };
  const proof = (m: number, n: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const sub = (m: number, n: number, b: boolean): void => {
      if (m === n) {
        if (!b) out.push(mth(n));
        return;
      }
      const k = largestPow2Below(n);
      if (m <= k) {
        sub(m, k, b);
        out.push(mth(n - k));
      } else {
        sub(m - k, n - k, false);
        out.push(mth(k));
      }
    };
    sub(m, n, true);
    return out;
  };
  return { mth, proof };
}

const sizes = fc
  .oneof(
    fc.tuple(fc.integer({ min: 1, max: 2 ** 20 }), fc.integer({ min: 0, max: 2 ** 20 })),
    fc.tuple(
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    ),
    // Sizes around 2^31 and 2^32, where 32-bit operators wrap.
    fc.tuple(fc.integer({ min: 2 ** 31 - 4, max: 2 ** 33 + 4 }), fc.integer({ min: 0, max: 2 ** 33 })),
  )
  .map(([a, d]) => [a, Math.min(Number.MAX_SAFE_INTEGER, a + d)] as const);

describe('audit tree (audit-tree.ts, RFC 9162 §2.1)', () => {
  const leaves = fc.array(bytes(32), { minLength: 1, maxLength: 40 });

  it('root and consistency proof equal the model; every honest proof verifies, for every old size', () => {
    check(
      leaves,
      (ls) => {
        // Over real (distinct) leaves the model needs real ranges: MTH(D[lo:hi]).
        const mth = (lo: number, hi: number): Uint8Array =>
          hi - lo === 1
            ? ls[lo]!
            : node(mth(lo, lo + largestPow2Below(hi - lo)), mth(lo + largestPow2Below(hi - lo), hi));
        expectBytes(auditTreeRoot(ls), mth(0, ls.length));
        for (let m = 1; m <= ls.length; m++) {
          const proof = auditConsistencyProof(m, ls);
          expect(verifyAuditConsistency(m, ls.length, mth(0, m), mth(0, ls.length), proof)).toBe(true);
        }
      },
      150,
    );
  });

  it('honest proofs verify at every size up to 2^53 - 1 (uniform leaves)', () => {
    check(
      fc.tuple(sizes, bytes(32)),
      ([[m, n], leaf]) => {
        const t = uniformTree(leaf);
        expect(verifyAuditConsistency(m, n, t.mth(m), t.mth(n), t.proof(m, n))).toBe(true);
      },
      400,
    );
  });

  it('a changed proof, root or size never verifies, and nothing throws', () => {
    // Sizes are not bent here: RFC 9162 binds a root to its size only through the signed head (CKAH signs seq), and a
    // proof for (1, 3) also fits the equations of (1, 4) with a subtree hash the verifier cannot tell from a leaf.
    const bend = fc.record({
      at: fc.nat(),
      byte: fc.nat(),
      what: fc.constantFrom('proof', 'old', 'new', 'drop', 'extra'),
    });
    check(
      fc.tuple(
        leaves.filter((l) => l.length >= 2),
        fc.nat(),
        bend,
      ),
      ([ls, mi, b]) => {
        const n = ls.length;
        const m = 1 + (mi % (n - 1));
        const proof = auditConsistencyProof(m, ls).map((p) => p.slice());
        const oldRoot = auditTreeRoot(ls.slice(0, m)).slice();
        const newRoot = auditTreeRoot(ls).slice();
        if (b.what === 'proof') proof[b.at % proof.length]![b.byte % 32]! ^= 1;
        if (b.what === 'old') oldRoot[b.byte % 32]! ^= 1;
        if (b.what === 'new') newRoot[b.byte % 32]! ^= 1;
        if (b.what === 'drop') proof.splice(b.at % proof.length, 1);
        if (b.what === 'extra') proof.splice(b.at % (proof.length + 1), 0, sha256(Uint8Array.of(b.byte)));
        expect(verifyAuditConsistency(m, n, oldRoot, newRoot, proof)).toBe(false);
      },
      300,
    );
    check(
      fc.tuple(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything()),
      (args) => {
        expect(verifyAuditConsistency(...(args as Parameters<typeof verifyAuditConsistency>))).toBe(false);
      },
      200,
    );
  });
});

// ---- fingerprints, key ids, code hashes, items hash ----------------------------------------------------------------

describe('key fingerprint and device key id (keys.ts)', () => {
  it('fingerprint = first 16 bytes of SHA-256("clawkeep/v1/fingerprint\\0" ‖ key) as 4 groups of 8 hex', () => {
    check(
      ed25519PublicKey,
      (k) => {
        const hex = toHex(sha256(concatBytes(utf8Encode('clawkeep/v1/fingerprint\0'), k)).subarray(0, 16));
        expect(fingerprint(k)).toBe(`${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16, 24)}-${hex.slice(24)}`);
        expect(deviceKeyId(k)).toBe(
          `dev_${toBase64Url(sha256(concatBytes(utf8Encode('clawkeep/v1/device-key-id\0'), k)).subarray(0, 16))}`,
        );
      },
      200,
    );
  });
});

describe('claim and pairing code hashes (claim-code.ts, device-pairing.ts)', () => {
  it('hash = SHA-256(domain ‖ normalized code), each with its own domain', () => {
    const code = fc
      .array(fc.constantFrom(...CLAIM_CODE_ALPHABET), { minLength: 8, maxLength: 8 })
      .map((c) => c.join(''));
    check(
      code,
      (c) => {
        expect(claimCodeHash(c)).toBe(
          toHex(sha256(concatBytes(utf8Encode('clawkeep/v1/claim-code\0'), utf8Encode(c)))),
        );
        expectBytes(pairingCodeHash(c)!, sha256(concatBytes(utf8Encode('clawkeep/v1/pairing-code\0'), utf8Encode(c))));
        expect(toHex(pairingCodeHash(c)!)).not.toBe(claimCodeHash(c));
      },
      200,
    );
  });
});

describe('vault items hash (vault-items-hash.ts)', () => {
  const entry = fc.record<SyncedEntry>({
    kind: fc.constantFrom('secret', 'agentConfig', 'deviceKey'),
    revision: fc.integer({ min: 1, max: 2 ** 40 }),
    envelopeSha256: fc.option(sha256Hex, { nil: null }),
  });
  const set = fc.dictionary(fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/), entry, { maxKeys: 8 });

  it('= SHA-256(canonical({v: 1, items: [[id, kind, revision, hash] sorted by id]})), whatever the insertion order', () => {
    check(
      set,
      (s) => {
        const ids = Object.keys(s).sort();
        const model = toHex(
          sha256(
            canonicalBytes({ v: 1, items: ids.map((i) => [i, s[i]!.kind, s[i]!.revision, s[i]!.envelopeSha256]) }),
          ),
        );
        expect(itemsHash(s)).toBe(model);
        expect(itemsHash(Object.fromEntries(Object.entries(s).reverse()))).toBe(model);
      },
      200,
    );
  });
});
