import { parentPort } from 'node:worker_threads';

// A lane worker that starts, says 'ready', and then never answers a job (as one the browser killed for memory would
// look): the pool's time budget must turn it into an error. It keeps its thread alive by listening, nothing else.
parentPort!.postMessage({ kind: 'ready' });
parentPort!.on('message', () => undefined);
