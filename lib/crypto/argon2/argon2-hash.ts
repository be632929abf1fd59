import { blake2b } from '@noble/hashes/blake2.js';
import { type Argon2Shape, BLOCK_BYTES, blockOffset } from './layout';

/** Inputs of Argon2id (RFC 9106 §3.1). */
export interface Argon2idInput {
  readonly password: Uint8Array;
  readonly salt: Uint8Array;
  /** K, optional secret value */
  readonly secret?: Uint8Array;
  /** X, optional associated data */
  readonly associatedData?: Uint8Array;
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
  /** T, bytes of output */
  readonly tagLength: number;
}

const VERSION = 0x13;
/** y = 2 (RFC 9106 §3.1). */
const TYPE_ARGON2ID = 2;
const EMPTY = new Uint8Array(0);

const le32 = (n: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
};

/**
 * Checks what RFC 9106 §3.1 requires of the inputs (our own floors and ceilings are in kdf-params.ts).
 * @throws RangeError naming the input
 */
export function checkArgon2idInput(input: Argon2idInput): void {
  const lengthOk = (b: Uint8Array | undefined): boolean => (b?.length ?? 0) <= 0xffffffff;
  if (!lengthOk(input.password) || !lengthOk(input.secret) || !lengthOk(input.associatedData)) {
    throw new RangeError('Argon2id inputs must be shorter than 2^32 bytes');
  }
  if (input.salt.length < 8 || input.salt.length > 0xffffffff)
    throw new RangeError('Argon2id salt must be 8 bytes or more');
  if (!Number.isInteger(input.tagLength) || input.tagLength < 4 || input.tagLength > 0xffffffff) {
    throw new RangeError('Argon2id tag length must be at least 4 bytes');
  }
}

function blake2bOf(dkLen: number, parts: readonly Uint8Array[]): Uint8Array {
  const h = blake2b.create({ dkLen });
  for (const part of parts) h.update(part);
  return h.digest();
}

/**
 * RFC 9106 §3.3 H'^T: the variable-length hash, written into `out` (T = out.length). Intermediate values are wiped.
 */
export function hPrime(out: Uint8Array, parts: readonly Uint8Array[]): void {
  const length = out.length;
  if (length <= 64) {
    const digest = blake2bOf(length, [le32(length), ...parts]);
    out.set(digest);
    digest.fill(0);
    return;
  }
  // r = ceil(T/32) - 2; V_1 = H^64(LE32(T) || A), V_i = H^64(V_{i-1}), V_{r+1} = H^{T-32r}(V_r);
  // the output is the first 32 bytes of V_1 .. V_r, then all of V_{r+1}.
  const r = Math.ceil(length / 32) - 2;
  let v = blake2bOf(64, [le32(length), ...parts]);
  out.set(v.subarray(0, 32), 0);
  for (let i = 1; i < r; i++) {
    const next = blake2b(v, { dkLen: 64 });
    v.fill(0);
    v = next;
    out.set(v.subarray(0, 32), i * 32);
  }
  const last = blake2b(v, { dkLen: length - 32 * r });
  v.fill(0);
  out.set(last, 32 * r);
  last.fill(0);
}

/** RFC 9106 §3.2 step 1: H0 (64 bytes). The caller wipes it. */
export function initialHash(input: Argon2idInput): Uint8Array {
  const secret = input.secret ?? EMPTY;
  const associatedData = input.associatedData ?? EMPTY;
  return blake2bOf(64, [
    le32(input.parallelism),
    le32(input.tagLength),
    le32(input.memoryKiB),
    le32(input.iterations),
    le32(VERSION),
    le32(TYPE_ARGON2ID),
    le32(input.password.length),
    input.password,
    le32(input.salt.length),
    input.salt,
    le32(secret.length),
    secret,
    le32(associatedData.length),
    associatedData,
  ]);
}

/**
 * RFC 9106 §3.2 steps 3-4: B[i][0] = H'^1024(H0 || LE32(0) || LE32(i)), B[i][1] = H'^1024(H0 || LE32(1) || LE32(i)),
 * written into the memory.
 */
export function writeFirstBlocks(memory: Uint8Array, shape: Argon2Shape, input: Argon2idInput): void {
  const h0 = initialHash(input);
  try {
    for (let lane = 0; lane < shape.lanes; lane++) {
      for (const column of [0, 1]) {
        const at = blockOffset(shape, lane, column);
        hPrime(memory.subarray(at, at + BLOCK_BYTES), [h0, le32(column), le32(lane)]);
      }
    }
  } finally {
    h0.fill(0);
  }
}

/** RFC 9106 §3.2 steps 7-8: C = XOR of the last block of every lane; the tag is H'^T(C). */
export function finalTag(memory: Uint8Array, shape: Argon2Shape, tagLength: number): Uint8Array {
  const c = new Uint8Array(BLOCK_BYTES);
  const tag = new Uint8Array(tagLength);
  try {
    for (let lane = 0; lane < shape.lanes; lane++) {
      const at = blockOffset(shape, lane, shape.laneLength - 1);
      const last = memory.subarray(at, at + BLOCK_BYTES);
      for (let i = 0; i < BLOCK_BYTES; i++) c[i] = c[i]! ^ last[i]!;
    }
    hPrime(tag, [c]);
    return tag;
  } finally {
    c.fill(0);
  }
}
