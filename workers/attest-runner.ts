import { wrap, type Remote } from 'comlink';
import type { QuoteVerification } from '../lib/attest/types';
import { failedVerification, type AttestRunner, type AttestVerifyRequest, type AttestWorkerApi } from './attest-api';

/** A real quote verifies in milliseconds; this only catches a worker that hangs or died without a word. */
export const ATTEST_TIMEOUT_MS = 15_000;

export interface AttestRunnerOptions {
  timeoutMs?: number;
  /** Starts the worker; the default is the bundled attest.worker.ts as a module worker. */
  startWorker?: () => Worker;
}

interface RunningWorker {
  worker: Worker;
  remote: Remote<AttestWorkerApi>;
  /** Calls in flight, so stopping the worker answers all of them at once. */
  pending: Set<(result: QuoteVerification) => void>;
}

const startAttestWorker = (): Worker =>
  new Worker(new URL('./attest.worker.ts', import.meta.url), { type: 'module', name: 'clawkeep-attest' });

/**
 * Starts the attest worker lazily on the first verification and reuses it. A worker that errors or does not answer
 * within the timeout is terminated; the call resolves with a typed error and the next call starts a new worker.
 */
export function createAttestRunner(options: AttestRunnerOptions = {}): AttestRunner {
  const timeoutMs = options.timeoutMs ?? ATTEST_TIMEOUT_MS;
  const startWorker = options.startWorker ?? startAttestWorker;
  let running: RunningWorker | null = null;

  const stop = (entry: RunningWorker, error: { code: string; message: string }): void => {
    if (running === entry) running = null;
    entry.worker.terminate();
    for (const settle of [...entry.pending]) settle(failedVerification(error));
    entry.pending.clear();
  };

  const ensure = (): RunningWorker => {
    if (running) return running;
    const worker = startWorker();
    const entry: RunningWorker = { worker, remote: wrap<AttestWorkerApi>(worker), pending: new Set() };
    // A script that fails to load, or an error nobody caught in the worker: do not trust that worker again.
    const onFailure = (event: Event): void => {
      event.preventDefault();
      stop(entry, { code: 'verifier_failed', message: 'The verifier stopped unexpectedly. Try again.' });
    };
    worker.addEventListener('error', onFailure);
    worker.addEventListener('messageerror', onFailure);
    running = entry;
    return entry;
  };

  return {
    verify(request: AttestVerifyRequest): Promise<QuoteVerification> {
      const now = request.options?.now;
      let entry: RunningWorker;
      try {
        entry = ensure();
      } catch {
        return Promise.resolve(
          failedVerification({ code: 'verifier_failed', message: 'The verifier could not be started in this page.' }, now),
        );
      }
      return new Promise<QuoteVerification>((resolve) => {
        let done = false;
        const settle = (result: QuoteVerification): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          entry.pending.delete(settle);
          resolve(result);
        };
        entry.pending.add(settle);
        const timer = setTimeout(() => {
          stop(entry, {
            code: 'verifier_timeout',
            message: `The verifier did not answer within ${Math.round(timeoutMs / 1000)} s and was stopped.`,
          });
        }, timeoutMs);
        entry.remote.verifyInput(request).then(settle, () =>
          // comlink rejects only when the call itself could not cross (e.g. an uncloneable argument).
          settle(failedVerification({ code: 'verifier_failed', message: 'The verifier could not take this input.' }, now)),
        );
      });
    },
    dispose(): void {
      if (running) stop(running, { code: 'verifier_failed', message: 'The verifier was stopped.' });
    },
  };
}

let shared: AttestRunner | null = null;

/** One runner (and so at most one attest worker) per page. */
export function sharedAttestRunner(): AttestRunner {
  shared ??= createAttestRunner();
  return shared;
}
