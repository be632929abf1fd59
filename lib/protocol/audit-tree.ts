import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../bytes';

/**
 * The Merkle tree over the hub's audit log (RFC 9162 §2.1, the Certificate Transparency tree), so a device can check
 * that a later signed audit head EXTENDS one it saw before without reading other accounts' entries: a consistency
 * proof is a list of interior hashes only.
 *
 * Leaves are the chain's `entry_hash` values in seq order. An entry_hash is already SHA-256(0x00 ‖ …) (the RFC 6962
 * leaf prefix, hub/audit/chain.ts), so it is used as the leaf hash as is; interior nodes are
 * SHA-256(0x01 ‖ left ‖ right). The tree of the first n entries is the same whatever came after, so the root a
 * device saw at n is recomputable forever unless an entry ≤ n changed.
 */

const NODE_PREFIX = new Uint8Array([0x01]);
const HASH_LENGTH = 32;

const node = (left: Uint8Array, right: Uint8Array): Uint8Array => sha256(concatBytes(NODE_PREFIX, left, right));

/** The largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(leaves[lo, hi)) for a non-empty range. */
function rangeRoot(leaves: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  if (hi - lo === 1) return leaves[lo]!;
  const k = split(hi - lo);
  return node(rangeRoot(leaves, lo, lo + k), rangeRoot(leaves, lo + k, hi));
}

function assertLeaves(leaves: readonly Uint8Array[]): void {
  if (leaves.length === 0) throw new RangeError('audit tree: no leaves');
  for (const l of leaves)
    if (!(l instanceof Uint8Array) || l.length !== HASH_LENGTH)
      throw new RangeError('audit tree: a leaf is not 32 bytes');
}

/** The tree head (MTH) of `leaves` (entry hashes, seq 1..n in order). @throws RangeError on no leaves or a bad leaf */
export function auditTreeRoot(leaves: readonly Uint8Array[]): Uint8Array {
  assertLeaves(leaves);
  return rangeRoot(leaves, 0, leaves.length);
}

/**
 * PROOF(m, D[n]) of RFC 9162 §2.1.4.1: the hashes that prove the tree of the first m leaves is a prefix of the tree
 * of all `leaves`. Empty when m = n.
 * @throws RangeError unless 1 ≤ m ≤ leaves.length
 */
export function auditConsistencyProof(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  assertLeaves(leaves);
  if (!Number.isSafeInteger(m) || m < 1 || m > leaves.length) throw new RangeError('audit tree: old size out of range');
  const proof: Uint8Array[] = [];
  const sub = (m: number, lo: number, hi: number, complete: boolean): void => {
    const n = hi - lo;
    if (m === n) {
      if (!complete) proof.push(rangeRoot(leaves, lo, hi));
      return;
    }
    const k = split(n);
    if (m <= k) {
      sub(m, lo, lo + k, complete);
      proof.push(rangeRoot(leaves, lo + k, hi));
    } else {
      sub(m - k, lo + k, hi, false);
      proof.push(rangeRoot(leaves, lo, lo + k));
    }
  };
  sub(m, 0, leaves.length, true);
  return proof;
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Verifies a consistency proof (RFC 9162 §2.1.4.2): true only if the tree of size `oldSize` with root `oldRoot` is
 * a prefix of the tree of size `newSize` with root `newRoot`. Never throws on hostile input; returns false.
 */
export function verifyAuditConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 1 || oldSize > newSize)
    return false;
  if (oldRoot.length !== HASH_LENGTH || newRoot.length !== HASH_LENGTH) return false;
  const hostile: unknown = proof; // typed for callers, but checked as untrusted input
  if (!Array.isArray(hostile) || proof.some((p) => !(p instanceof Uint8Array) || p.length !== HASH_LENGTH))
    return false;
  if (oldSize === newSize) return proof.length === 0 && equal(oldRoot, newRoot);
  // A proof is at most about 2·log2(n) hashes; anything longer is not one.
  if (proof.length === 0 || proof.length > 128) return false;
  // Bit arithmetic on sizes up to 2^53 would overflow 32-bit operators: use division instead of shifts (and instead
  // of `m & (m - 1)` for the power-of-two test, which wrapped above 2^32 and refused honest proofs there).
  const odd = (x: number) => x % 2 === 1;
  const half = (x: number) => Math.floor(x / 2);
  const isPowerOfTwo = (x: number) => {
    while (!odd(x)) x = half(x);
    return x === 1;
  };
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      if (!odd(fn)) {
        do {
          fn = half(fn);
          sn = half(sn);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      sr = node(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot);
}
