import { Worker } from 'node:worker_threads';
import type { LanePort, LaneReply } from '../../../../lib/crypto/argon2';

/**
 * A Node worker_threads lane worker as a LanePort: what workers/argon2-lanes.ts does with Web Workers, so the unit
 * tests drive the real parallel path (shared WebAssembly memory, Atomics barrier) in Node. `script` (TypeScript) runs under tsx (tsx-worker.mjs).
 */
export function nodeLanePort(script: URL): LanePort {
  const worker = new Worker(new URL('./tsx-worker.mjs', import.meta.url), { workerData: { entry: script.href } });
  let onReply: (reply: LaneReply) => void = () => undefined;
  let onFailure: (error: unknown) => void = () => undefined;
  worker.on('message', (reply: LaneReply) => onReply(reply));
  worker.on('error', (error) => onFailure(error));
  // A worker that ends on its own (crash, process.exit) is a failure of the run it was part of.
  worker.on('exit', (code) => onFailure(new Error(`lane worker exited with code ${code}`)));
  return {
    post: (job) => worker.postMessage(job),
    listen(reply, failure) {
      onReply = reply;
      onFailure = failure;
    },
    terminate() {
      onFailure = () => undefined;
      void worker.terminate();
    },
  };
}

/** The lane worker entry for Node: the same runLaneJob as workers/argon2-lane.worker.ts. */
export const LANE_WORKER = new URL('./lane.node-worker.ts', import.meta.url);
