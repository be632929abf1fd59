import type { Argon2idInput } from './argon2-hash';
import { argon2idParallel, type LaneWorkerPool } from './parallel';
import { argon2idSingle } from './single';

export type { Argon2idInput } from './argon2-hash';
export { LaneWorkerPool, type LanePort } from './parallel';
export { announceReady, runLaneJob, type LaneJob, type LaneReply } from './lanes';

/** Which fill ran: lanes on several threads over shared memory, or all lanes in order on one thread. */
export type Argon2Path = 'parallel' | 'single';

/** What decides whether lane workers can run here (a worker's or page's global scope). */
export interface ThreadEnvironment {
  crossOriginIsolated?: boolean;
  SharedArrayBuffer?: unknown;
  Atomics?: { wait?: unknown };
  Worker?: unknown;
  navigator?: { hardwareConcurrency?: number };
}

/**
 * How many lane workers this scope can use: 1 (the single path) unless it is cross-origin isolated (the only way a
 * browser hands out SharedArrayBuffer, which a shared WebAssembly.Memory needs), has Atomics.wait (dedicated workers
 * do, pages do not) and can start workers; then the number of cores, at most 16.
 */
export function laneThreads(scope: ThreadEnvironment): number {
  const capable =
    scope.crossOriginIsolated === true &&
    typeof scope.SharedArrayBuffer === 'function' &&
    typeof scope.Atomics?.wait === 'function' &&
    typeof scope.Worker === 'function';
  if (!capable) return 1;
  return Math.max(1, Math.min(16, Math.floor(scope.navigator?.hardwareConcurrency ?? 1)));
}

/**
 * Argon2id (RFC 9106, v0x13). With a pool of two or more started lane workers and two or more lanes the lanes run in
 * parallel; otherwise (no pool, one lane, one core, lane workers not started yet, or busy with another derivation) on
 * this thread. Both paths give the same bytes; the answer says which ran.
 */
export async function argon2id(
  input: Argon2idInput,
  pool?: LaneWorkerPool,
): Promise<{ tag: Uint8Array; path: Argon2Path }> {
  if (pool && pool.size >= 2 && input.parallelism >= 2 && !pool.busy) {
    if (pool.isReady(input.parallelism)) return { tag: await argon2idParallel(input, pool), path: 'parallel' };
    // Lane workers still starting (the first derivation in a new KDF worker) would make this call wait for them: in
    // Chromium here a worker took 70-220 ms to start and answer, more than its share of the fill. This one runs on
    // this thread; they will be ready for the next.
    pool.prestart(input.parallelism);
  }
  return { tag: await argon2idSingle(input), path: 'single' };
}
