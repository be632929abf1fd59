import { argon2Module, runLaneJob, type LaneJob } from '../lib/crypto/argon2';

// One Argon2id lane worker, started by the KDF worker (workers/argon2-lanes.ts): it fills its lanes of a shared
// WebAssembly memory slice by slice and answers 'done' or 'failed' (runLaneJob never throws). It receives no password:
// only the memory, whose first blocks the KDF worker wrote.
const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (event: MessageEvent<LaneJob>) => void): void;
  postMessage(message: unknown): void;
};

// Compile now, while the KDF worker is still preparing the first job (the pool starts lane workers early). A failure
// shows again, as a 'failed' reply, when the job instantiates the module.
argon2Module(true).catch(() => undefined);

scope.addEventListener('message', (event) => {
  void runLaneJob(event.data).then((reply) => scope.postMessage(reply));
});
