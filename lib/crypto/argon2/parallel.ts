import { finalTag, type Argon2idInput, checkArgon2idInput, writeFirstBlocks } from './argon2-hash';
import type { LaneJob, LaneReply } from './lanes';
import {
  type Argon2Shape,
  argon2Shape,
  BLOCK_BYTES,
  blockOffset,
  BLOCKS_OFFSET,
  CONTROL_ABORT,
  CONTROL_ARRIVALS,
  CONTROL_OFFSET,
  CONTROL_SEGMENTS,
  CONTROL_WORDS,
  MAX_THREADS,
  memoryPages,
} from './layout';

/**
 * One lane worker as the coordinator sees it: a Web Worker in browsers (workers/argon2-lane.worker.ts), a
 * worker_threads Worker in Node. The pool calls `listen` once, right after starting it.
 */
export interface LanePort {
  post(job: LaneJob): void;
  listen(onReply: (reply: LaneReply) => void, onFailure: (error: unknown) => void): void;
  terminate(): void;
}

/** A started lane worker, whether it said 'ready', and where its messages go during a run. */
interface Lane {
  readonly port: LanePort;
  ready: boolean;
  onReply: (reply: LaneReply) => void;
  onFailure: (error: unknown) => void;
}

/**
 * A generous end for one fill, so that a lane worker that died without a word (killed for memory) turns into an
 * error instead of a hang: 5 s plus 50 µs per block and pass, about 20 times the slowest fill measured (hash-wasm in
 * Chromium on a 2-core machine, ~2 µs per block). 64 MiB × 3 passes: 15 s; the 1 GiB × 10 ceiling: ~9 min.
 */
export function fillBudgetMs(shape: Argon2Shape): number {
  return 5000 + shape.lanes * shape.laneLength * shape.passes * 0.05;
}

/**
 * Lane workers started on first use and kept for the next derivation (starting a worker and compiling the wasm
 * costs more than a slice). After any failure all of them are terminated and new ones start next time.
 */
export class LaneWorkerPool {
  /** Threads used at most. */
  readonly size: number;
  readonly #spawn: () => LanePort;
  readonly #budgetMs: (shape: Argon2Shape) => number;
  readonly #lanes: Lane[] = [];
  #busy = false;

  /**
   * @param size - threads to use at most (clamped to 1..16, the scratch slots of layout.ts)
   * @param options - budgetMs: the time one fill may take before it is abandoned (default {@link fillBudgetMs})
   */
  constructor(spawn: () => LanePort, size: number, options: { budgetMs?: (shape: Argon2Shape) => number } = {}) {
    this.#spawn = spawn;
    this.#budgetMs = options.budgetMs ?? fillBudgetMs;
    this.size = Math.max(1, Math.min(MAX_THREADS, Math.floor(size)));
  }

  /** True when min(size, lanes) lane workers have started and compiled the wasm (they said 'ready'). */
  isReady(lanes: number): boolean {
    const count = Math.min(this.size, Math.max(1, Math.floor(lanes)));
    return this.#lanes.length >= count && this.#lanes.slice(0, count).every((lane) => lane.ready);
  }

  /** Starts one lane worker and keeps its one listener, which hands each message to the run in progress. */
  #add(): void {
    const lane: Lane = { port: this.#spawn(), ready: false, onReply: () => undefined, onFailure: () => undefined };
    lane.port.listen(
      (reply) => {
        if (reply.kind === 'ready') lane.ready = true;
        else lane.onReply(reply);
      },
      (error) => {
        // Outside a run this only marks the worker unusable: the KDF worker keeps to the single path.
        lane.ready = false;
        lane.onFailure(error);
      },
    );
    this.#lanes.push(lane);
  }

  /** True while a fill runs (one at a time: the scratch slots and the barrier belong to one memory). */
  get busy(): boolean {
    return this.#busy;
  }

  /** Fills `memory` (first blocks written) with min(size, p) lane workers; resolves when every lane is complete. */
  run(memory: WebAssembly.Memory, shape: Argon2Shape): Promise<void> {
    if (this.#busy) return Promise.reject(new Error('lane workers are busy'));
    const threads = Math.min(this.size, shape.lanes);
    const control = new Int32Array(memory.buffer, CONTROL_OFFSET, CONTROL_WORDS);
    Atomics.store(control, CONTROL_ARRIVALS, 0);
    Atomics.store(control, CONTROL_ABORT, 0);
    Atomics.store(control, CONTROL_SEGMENTS, 0);
    const budget = this.#budgetMs(shape);
    const deadline = Date.now() + budget;
    this.#busy = true;
    return new Promise<void>((resolve, reject) => {
      let pending = threads;
      let settled = false;
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#busy = false;
        if (error === undefined) return resolve();
        // Wake every waiting worker so it returns, then drop them all: one may be stuck in wasm.
        Atomics.store(control, CONTROL_ABORT, 1);
        Atomics.notify(control, CONTROL_ARRIVALS);
        this.dispose();
        reject(error instanceof Error ? error : new Error('lane worker failed'));
      };
      const timer = setTimeout(() => finish(new Error('Argon2id lane workers timed out')), budget);
      try {
        while (this.#lanes.length < threads) this.#add();
        for (let thread = 0; thread < threads; thread++) {
          const lane = this.#lanes[thread]!;
          lane.onReply = (reply) => {
            if (reply.kind === 'failed') finish(new Error(`Argon2id lane worker failed: ${reply.message}`));
            else if (--pending === 0) finish();
          };
          lane.onFailure = (error) => finish(error);
          lane.port.post({ kind: 'argon2id-lanes', memory, shape, thread, threads, deadline });
        }
      } catch (err) {
        finish(err);
      }
    });
  }

  /**
   * Starts lane workers now instead of at the first fill, so their start and wasm compile overlap with what comes
   * before the first derivation (the KDF worker's own start, the comlink call, H0).
   * @param lanes - the parallelism expected (the vault default): no more than min(size, lanes) workers start now
   */
  prestart(lanes: number): void {
    if (this.#busy) return;
    const count = Math.min(this.size, Math.max(1, Math.floor(lanes)));
    try {
      while (this.#lanes.length < count) this.#add();
    } catch {
      // The first run spawns again and reports the failure (kdf_failed for the caller).
      this.dispose();
    }
  }

  /** Terminates the lane workers (they hold no state between runs). */
  dispose(): void {
    for (const lane of this.#lanes.splice(0)) lane.port.terminate();
  }
}

/**
 * Argon2id with the lanes of each slice filled in parallel by lane workers sharing one WebAssembly memory (RFC 9106
 * §3.4: "segments of the same slice can be computed in parallel"). Same bytes as argon2idSingle. Needs
 * SharedArrayBuffer (cross-origin isolation in browsers). The memory is zeroed before returning, on failure too: the
 * lane workers zero their lanes in parallel, this zeroes the rest (after a failure, everything).
 * @throws RangeError for inputs RFC 9106 §3.1 rejects; Error when a lane worker fails or times out
 */
export async function argon2idParallel(input: Argon2idInput, pool: LaneWorkerPool): Promise<Uint8Array> {
  checkArgon2idInput(input);
  const shape = argon2Shape(input.memoryKiB, input.parallelism, input.iterations);
  const pages = memoryPages(shape);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const bytes = new Uint8Array(memory.buffer);
  let lanesZeroed = false;
  try {
    writeFirstBlocks(bytes, shape, input);
    await pool.run(memory, shape);
    // Each lane worker zeroed its lanes but their last blocks (lanes.ts), which the tag needs.
    lanesZeroed = true;
    return finalTag(bytes, shape, input.tagLength);
  } finally {
    if (lanesZeroed) {
      bytes.fill(0, 0, BLOCKS_OFFSET);
      for (let lane = 0; lane < shape.lanes; lane++) {
        const last = blockOffset(shape, lane, shape.laneLength - 1);
        bytes.fill(0, last, last + BLOCK_BYTES);
      }
    } else {
      // A failed or abandoned fill: nothing is known about what the workers did, so all of it.
      bytes.fill(0);
    }
  }
}
