import { announceReady, runLaneJob, type LaneJob } from '../lib/crypto/argon2';

// One Argon2id lane worker, started by the KDF worker (workers/argon2-lanes.ts): it fills its lanes of a shared
// WebAssembly memory slice by slice and answers 'done' or 'failed' (runLaneJob never throws). It receives no password:
// only the memory, whose first blocks the KDF worker wrote.
const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (event: MessageEvent<LaneJob>) => void): void;
  postMessage(message: unknown): void;
};

// Compile now and say 'ready': the KDF worker sends jobs only to lane workers that did (lib/crypto/argon2/index.ts).
void announceReady((reply) => scope.postMessage(reply));

scope.addEventListener('message', (event) => {
  void runLaneJob(event.data).then((reply) => scope.postMessage(reply));
});
