import { errorMessage } from '../errors';
import { DeployError } from './errors';
import type { PhalaCvm } from '../providers/phala/wire';
import { verifySealAndSend, type DeployDeps } from './deploy-flow';
import { StepTracker, type StepStatus } from './steps';
import type { DeploymentRecord, EnvEntry, TrustPins } from './types';
import { verifyCvm, type CvmTarget, type CvmVerdict } from './verify-cvm';

/** What the dashboard shows about a running deployment. */
export interface DeploymentStatus {
  cvm: PhalaCvm;
  status: string;
  uptimeSeconds: number | null;
}

export interface DeploymentOperations {
  status(): Promise<DeploymentStatus>;
  /** A fresh quote and the whole trust gate again (new nonce); the verdict, trusted or not. */
  reverify(): Promise<CvmVerdict>;
  logs(tail?: number): Promise<string[]>;
  restart(): Promise<void>;
  /**
   * Re-verify, then re-seal the whole env set (dstack replaces it, there is no per-key update). Throws
   * DeployError('untrusted_cvm') with nothing sent when the CVM no longer passes.
   */
  updateSecrets(
    env: EnvEntry[],
    onProgress?: (steps: StepStatus[]) => void,
    options?: { acceptUnboundQuote?: boolean },
  ): Promise<CvmVerdict>;
  destroy(): Promise<void>;
}

const targetOf = (record: DeploymentRecord, envKeys: string[]): CvmTarget => ({
  cvmId: record.cvmId,
  appId: record.appId,
  kmsId: record.kmsId,
  allowedEnvs: record.allowedEnvs,
  envKeys,
  ...(record.expectedCompose ? { expectedCompose: record.expectedCompose } : {}),
  knownAppCompose: record.appCompose || null,
});

/** Dashboard operations on one deployment; every call goes to the provider or the CVM, nothing is cached here. */
export function deploymentOperations(
  record: DeploymentRecord,
  trust: TrustPins,
  deps: DeployDeps,
): DeploymentOperations {
  const { cloud } = deps;
  const envKeys = record.envSources.map((s) => s.key);
  return {
    async status() {
      const cvm = await cloud.getCvm(record.cvmId);
      const state = await cloud.getState(record.cvmId).catch(() => null);
      return {
        cvm,
        status: state?.status ?? cvm.status,
        uptimeSeconds: state?.uptimeSeconds ?? cvm.uptimeSeconds ?? null,
      };
    },
    reverify: () => verifyCvm(targetOf(record, envKeys), { ...deps, trust }),
    logs: (tail = 200) => cloud.getLogs(record.cvmId, tail),
    async restart() {
      await cloud.restart(record.cvmId);
    },
    async updateSecrets(env, onProgress, options) {
      const allowed = new Set(record.allowedEnvs);
      const outside = env.filter((e) => !allowed.has(e.key)).map((e) => e.key);
      if (outside.length)
        throw new DeployError('invalid_request', `Not in the app’s allowed envs: ${outside.join(', ')}.`);
      const steps = new StepTracker(['verify', 'seal', 'health'], onProgress);
      try {
        // PATCH envs replaces the whole set and restarts the app by itself (spec §3).
        // The person's override of a provider-served quote (dashboard control; recorded from verdict.override).
        const flowDeps = options?.acceptUnboundQuote ? { ...deps, acceptUnboundQuote: true } : deps;
        const { verdict } = await verifySealAndSend(
          targetOf(
            record,
            env.map((e) => e.key),
          ),
          env,
          trust,
          flowDeps,
          steps,
        );
        return verdict;
      } catch (err) {
        const running = steps.snapshot().find((s) => s.state === 'running');
        steps.fail(running?.id ?? 'verify', errorMessage(err));
        throw err;
      }
    },
    destroy: () => cloud.deleteCvm(record.cvmId),
  };
}

export const REVERIFY_INTERVAL_MS = 60 * 60 * 1000;

export interface ReverifyScheduleOptions {
  /** When the deployment was last verified (ms); the first run is one interval after it, or now if overdue. */
  lastVerifiedAt?: number | null;
  intervalMs?: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/**
 * Re-verifies every `intervalMs` (default one hour) while the page is open. Runs never overlap: the next one is
 * scheduled after the current one settled, counted from when it finished. Returns a stop function.
 */
export function scheduleReverify(run: () => Promise<unknown>, options: ReverifyScheduleOptions = {}): () => void {
  const interval = options.intervalMs ?? REVERIFY_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let stopped = false;
  let handle: unknown = null;
  const arm = (delay: number): void => {
    if (stopped) return;
    handle = setTimer(
      () => {
        handle = null;
        void run()
          .catch(() => undefined)
          .finally(() => arm(interval));
      },
      Math.max(0, delay),
    );
  };
  const last = options.lastVerifiedAt;
  arm(last === null || last === undefined ? interval : last + interval - now());
  return () => {
    stopped = true;
    if (handle !== null) clearTimer(handle);
  };
}
