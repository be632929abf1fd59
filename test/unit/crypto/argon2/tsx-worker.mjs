// worker_threads cannot run a .ts file by itself, and `execArgv: ['--import', 'tsx']` does not reach a worker on
// Node 20: this plain-JS entry registers tsx's loader in the worker, then imports the TypeScript entry it was given.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
