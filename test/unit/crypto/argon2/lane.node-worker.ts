import { parentPort } from 'node:worker_threads';
import { announceReady, runLaneJob, type LaneJob } from '../../../../lib/crypto/argon2';

// Node twin of workers/argon2-lane.worker.ts (worker_threads instead of a Web Worker), for test/unit/crypto/argon2.
const port = parentPort!;
void announceReady((reply) => port.postMessage(reply));
port.on('message', (job: LaneJob) => {
  void runLaneJob(job).then((reply) => port.postMessage(reply));
});
