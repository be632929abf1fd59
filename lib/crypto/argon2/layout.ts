/**
 * Where things sit in the WebAssembly memory of the Argon2id fill (lib/crypto/argon2/argon2.wat says the same at the
 * top) and the block geometry of RFC 9106 §3.2. Shared by the single path, the coordinator and the lane workers.
 */

/** RFC 9106 §3.2: blocks are 1 KiB. */
export const BLOCK_BYTES = 1024;
/** 64 KiB WebAssembly pages. */
export const PAGE_BYTES = 65536;
/**
 * Int32 control words of the parallel path: the barrier's arrival counter, the abort flag, and the count of segments
 * handed out so far (all lanes of all slices until now, plus those of the current slice).
 */
export const CONTROL_OFFSET = 1024;
export const CONTROL_ARRIVALS = 0;
export const CONTROL_ABORT = 1;
export const CONTROL_SEGMENTS = 2;
export const CONTROL_WORDS = 3;
/** Per-thread scratch: 4 KiB for thread k at SCRATCH_OFFSET + k * SCRATCH_BYTES. */
export const SCRATCH_OFFSET = 4096;
export const SCRATCH_BYTES = 4096;
/** The scratch area has room for this many threads (lane workers). */
export const MAX_THREADS = 16;
/** The m' blocks start here, lane-major. */
export const BLOCKS_OFFSET = 131072;
/** wasm32 addresses at most 65536 pages; the header takes two. */
const MAX_PAGES = 65536;

/** The shape of one Argon2id memory (RFC 9106 §3.2 steps 1-2). */
export interface Argon2Shape {
  /** p */
  readonly lanes: number;
  /** q = m' / p, a multiple of 4 */
  readonly laneLength: number;
  /** t */
  readonly passes: number;
}

/**
 * RFC 9106 §3.2: m' = 4 * p * floor(m / 4p) blocks, q = m' / p.
 * @throws RangeError when m is less than 8p (§3.1) or the memory does not fit in wasm32
 */
export function argon2Shape(memoryKiB: number, parallelism: number, iterations: number): Argon2Shape {
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 0xffffff) {
    throw new RangeError('Argon2id parallelism must be 1..2^24-1');
  }
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError('Argon2id iterations must be at least 1');
  if (!Number.isInteger(memoryKiB) || memoryKiB < 8 * parallelism) {
    throw new RangeError('Argon2id memory must be at least 8 KiB per lane');
  }
  const laneLength = 4 * Math.floor(memoryKiB / (4 * parallelism));
  const shape = { lanes: parallelism, laneLength, passes: iterations };
  if (memoryPages(shape) > MAX_PAGES) throw new RangeError('Argon2id memory is too large for WebAssembly');
  return shape;
}

/** Pages of WebAssembly memory for a shape: the header plus m' blocks. */
export function memoryPages(shape: Argon2Shape): number {
  const blockBytes = shape.lanes * shape.laneLength * BLOCK_BYTES;
  return (BLOCKS_OFFSET + Math.ceil(blockBytes / PAGE_BYTES) * PAGE_BYTES) / PAGE_BYTES;
}

/** Byte offset of block (lane, column). */
export function blockOffset(shape: Argon2Shape, lane: number, column: number): number {
  return BLOCKS_OFFSET + (lane * shape.laneLength + column) * BLOCK_BYTES;
}
