import { parentPort } from 'node:worker_threads';

// A lane worker that never answers (as one the browser killed for memory would look): the pool's time budget must
// turn it into an error. It keeps its thread alive by listening and does nothing else.
parentPort!.on('message', () => undefined);
