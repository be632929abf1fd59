import {
  type Argon2Shape,
  blockOffset,
  CONTROL_ABORT,
  CONTROL_ARRIVALS,
  CONTROL_OFFSET,
  CONTROL_SEGMENTS,
  CONTROL_WORDS,
  SCRATCH_BYTES,
  SCRATCH_OFFSET,
} from './layout';
import { argon2Module, instantiateFill } from './wasm';

/** What the coordinator (parallel.ts) sends a lane worker: its share of one Argon2id memory. */
export interface LaneJob {
  readonly kind: 'argon2id-lanes';
  /** The shared memory holding the blocks; blocks 0 and 1 of every lane are already written. */
  readonly memory: WebAssembly.Memory;
  readonly shape: Argon2Shape;
  /** This worker's scratch slot; after the fill it zeroes lanes thread, thread + threads, ... */
  readonly thread: number;
  readonly threads: number;
  /** Date.now() after which the worker gives up instead of waiting on. */
  readonly deadline: number;
}

/**
 * A lane worker's messages: 'ready' once, when it has compiled the wasm at start (announceReady); then one 'done' or
 * 'failed' per job. They carry no secret: at most "aborted" or an engine's error text.
 */
export type LaneReply =
  { kind: 'ready' } | { kind: 'done'; thread: number } | { kind: 'failed'; thread: number; message: string };

/** Longest single Atomics.wait; the abort flag and the deadline are checked between waits. */
const WAIT_SLICE_MS = 1000;

class LaneAbort extends Error {}

/**
 * All threads meet after each slice: RFC 9106 §3.4 lets the segments of one slice run in parallel, but a segment may
 * reference any block of the finished slices of other lanes. The counter only grows (threads × slices so far), so
 * no reset is needed between slices. Every wait ends: at the abort flag (set by the coordinator on a failure or its
 * own timeout) or at the deadline.
 */
function arriveAndWait(control: Int32Array, target: number, deadline: number): void {
  const arrived = Atomics.add(control, CONTROL_ARRIVALS, 1) + 1;
  if (arrived >= target) {
    Atomics.notify(control, CONTROL_ARRIVALS);
    return;
  }
  for (;;) {
    if (Atomics.load(control, CONTROL_ABORT) !== 0) throw new LaneAbort('aborted');
    const seen = Atomics.load(control, CONTROL_ARRIVALS);
    if (seen >= target) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new LaneAbort('timed out waiting for the other lanes');
    Atomics.wait(control, CONTROL_ARRIVALS, seen, Math.min(left, WAIT_SLICE_MS));
  }
}

/**
 * What a lane worker runs as it starts: compiles the wasm, then says 'ready' through `post`. A worker that cannot
 * compile never says it, and the KDF worker keeps to the single path.
 */
export async function announceReady(post: (reply: LaneReply) => void): Promise<void> {
  try {
    await argon2Module(true);
    post({ kind: 'ready' });
  } catch {
    // Nothing to announce; a job sent anyway gets a 'failed' reply from runLaneJob.
  }
}

/**
 * Hands out the segments of slice `step` one at a time, to whichever worker asks first, so that a worker the system
 * does not schedule for a while (a loaded machine) delays the slice by at most one segment instead of its fixed share.
 * The counter ends each slice at exactly (step + 1) × lanes (compare-and-swap never overshoots), which is where the next
 * slice starts: every worker has passed the barrier by then. Returns the lane, or -1 when the slice is handed out.
 */
function takeSegment(control: Int32Array, step: number, lanes: number): number {
  const end = (step + 1) * lanes;
  for (;;) {
    const next = Atomics.load(control, CONTROL_SEGMENTS);
    if (next >= end) return -1;
    if (Atomics.compareExchange(control, CONTROL_SEGMENTS, next, next + 1) === next) return next - step * lanes;
  }
}

/** Runs one lane worker's share of a parallel Argon2id fill. Never throws: failures become a 'failed' reply. */
export async function runLaneJob(job: LaneJob): Promise<LaneReply> {
  const { shape, thread, threads } = job;
  try {
    const control = new Int32Array(job.memory.buffer, CONTROL_OFFSET, CONTROL_WORDS);
    const fill = await instantiateFill(job.memory, true);
    const scratch = SCRATCH_OFFSET + thread * SCRATCH_BYTES;
    const slices = shape.passes * 4;
    for (let step = 0; step < slices; step++) {
      const pass = Math.floor(step / 4);
      const slice = step % 4;
      for (
        let lane = takeSegment(control, step, shape.lanes);
        lane >= 0;
        lane = takeSegment(control, step, shape.lanes)
      ) {
        if (Atomics.load(control, CONTROL_ABORT) !== 0) throw new LaneAbort('aborted');
        fill.fill_segment(pass, lane, slice, shape.lanes, shape.laneLength, shape.passes, scratch);
      }
      arriveAndWait(control, (step + 1) * threads, job.deadline);
    }
    // Every lane has finished the last slice, so no block is read any more: zero this worker's lanes in parallel with
    // the others (64 MiB is tens of milliseconds for one thread). The last block of each lane stays for the tag
    // (RFC 9106 §3.2 step 7); the coordinator zeroes those and the scratch after computing it.
    const bytes = new Uint8Array(job.memory.buffer);
    for (let lane = thread; lane < shape.lanes; lane += threads) {
      bytes.fill(0, blockOffset(shape, lane, 0), blockOffset(shape, lane, shape.laneLength - 1));
    }
    return { kind: 'done', thread };
  } catch (err) {
    return { kind: 'failed', thread, message: err instanceof Error ? err.message : 'lane worker failed' };
  }
}
