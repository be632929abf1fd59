import { wrap, type Remote } from 'comlink';
import type { QuoteVerification } from '../lib/attest/types';
import type { TrustReport } from '../lib/seal/trust-gate';
import {
  failedTrustReport,
  failedVerification,
  type AttestRunner,
  type AttestVerifyRequest,
  type AttestWorkerApi,
  type CvmCheckRequest,
  type CvmTrustChecker,
  type SealEnvRequest,
  type SealEnvResult,
} from './attest-api';

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
  pending: Set<(error: { code: string; message: string }) => void>;
}

const startAttestWorker = (): Worker =>
  new Worker(new URL('./attest.worker.ts', import.meta.url), { type: 'module', name: 'clawkeep-attest' });

/**
 * Starts the attest worker lazily on the first verification and reuses it. A worker that errors or does not answer
 * within the timeout is terminated; the call resolves with a typed error and the next call starts a new worker.
 */
export function createAttestRunner(options: AttestRunnerOptions = {}): AttestRunner & CvmTrustChecker {
  const timeoutMs = options.timeoutMs ?? ATTEST_TIMEOUT_MS;
  const startWorker = options.startWorker ?? startAttestWorker;
  let running: RunningWorker | null = null;

  const stop = (entry: RunningWorker, error: { code: string; message: string }): void => {
    if (running === entry) running = null;
    entry.worker.terminate();
    for (const onStop of [...entry.pending]) onStop(error);
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

  /**
   * One call into the worker with the timeout and crash handling every call shares. `fail` turns a runner error
   * into that call's answer type, so callers always get a result and never a rejection.
   */
  const call = <T>(
    invoke: (remote: Remote<AttestWorkerApi>) => Promise<T>,
    fail: (error: { code: string; message: string }) => T,
  ): Promise<T> => {
    let entry: RunningWorker;
    try {
      entry = ensure();
    } catch {
      return Promise.resolve(
        fail({ code: 'verifier_failed', message: 'The verifier could not be started in this page.' }),
      );
    }
    return new Promise<T>((resolve) => {
      let done = false;
      const finish = (result: T): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        entry.pending.delete(onStop);
        resolve(result);
      };
      const onStop = (error: { code: string; message: string }): void => finish(fail(error));
      entry.pending.add(onStop);
      const timer = setTimeout(() => {
        stop(entry, {
          code: 'verifier_timeout',
          message: `The verifier did not answer within ${Math.round(timeoutMs / 1000)} s and was stopped.`,
        });
      }, timeoutMs);
      invoke(entry.remote).then(finish, () =>
        // comlink rejects only when the call itself could not cross (e.g. an uncloneable argument).
        onStop({ code: 'verifier_failed', message: 'The verifier could not take this input.' }),
      );
    });
  };

  return {
    verify(request: AttestVerifyRequest): Promise<QuoteVerification> {
      const now = request.options?.now;
      return call(
        (remote) => remote.verifyInput(request),
        (error) => failedVerification(error, now),
      );
    },
    checkCvm(request: CvmCheckRequest): Promise<TrustReport> {
      const now = request.expectations?.now;
      return call(
        (remote) => remote.checkCvm(request),
        (error) => failedTrustReport(error, now),
      );
    },
    sealEnv(request: SealEnvRequest): Promise<SealEnvResult> {
      return call<SealEnvResult>(
        (remote) => remote.sealEnv(request),
        (error) => ({ ok: false, error }),
      );
    },
    dispose(): void {
      if (running) stop(running, { code: 'verifier_failed', message: 'The verifier was stopped.' });
    },
  };
}

let shared: (AttestRunner & CvmTrustChecker) | null = null;

/** One runner (and so at most one attest worker) per page: quote verification and the CVM trust gate. */
export function sharedAttestRunner(): AttestRunner & CvmTrustChecker {
  shared ??= createAttestRunner();
  return shared;
}
