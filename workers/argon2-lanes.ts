import {
  laneThreads,
  LaneWorkerPool,
  type LanePort,
  type LaneReply,
  type ThreadEnvironment,
} from '../lib/crypto/argon2';

/** A lane worker as a LanePort. Started from the KDF worker (a nested worker: Chrome and Firefox both allow them). */
function spawnLaneWorker(): LanePort {
  const worker = new Worker(new URL('./argon2-lane.worker.ts', import.meta.url), { type: 'module' });
  return {
    post: (job) => worker.postMessage(job),
    listen(onReply, onFailure) {
      worker.onmessage = (event: MessageEvent<LaneReply>) => onReply(event.data);
      worker.onerror = (event) => {
        // The default action would report the error to the console as uncaught; we turn it into kdf_failed.
        event.preventDefault();
        onFailure(new Error(event.message || 'lane worker failed to start'));
      };
      worker.onmessageerror = () => onFailure(new Error('lane worker could not read a message'));
    },
    terminate: () => worker.terminate(),
  };
}

/**
 * The lane workers of this scope, or undefined where threads are unavailable (no cross-origin isolation, e.g. the web
 * vault served without COOP/COEP, or Firefox's extension pages; one core): Argon2id then runs on the single path.
 */
export function createLaneWorkerPool(scope: ThreadEnvironment = globalThis): LaneWorkerPool | undefined {
  const threads = laneThreads(scope);
  return threads >= 2 ? new LaneWorkerPool(spawnLaneWorker, threads) : undefined;
}
