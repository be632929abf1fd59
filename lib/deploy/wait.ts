import type { PhalaCvm } from '../providers/phala/wire';
import { DeployError } from './errors';
import type { CloudPort } from './types';

export interface PollOptions {
  /** Give up after this long. Default 5 minutes: a real CVM boots in one to three. */
  timeoutMs?: number;
  intervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls the CVM until `ready` holds. A CVM that is being deleted or in error will not get there: fail at once
 * instead of waiting out the timeout.
 */
export async function waitForCvm(
  cloud: CloudPort,
  id: string,
  ready: (cvm: PhalaCvm) => boolean,
  options: PollOptions = {},
): Promise<PhalaCvm> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = now() + (options.timeoutMs ?? 300_000);
  const interval = options.intervalMs ?? 1_000;
  for (;;) {
    const cvm = await cloud.getCvm(id);
    if (ready(cvm)) return cvm;
    if (cvm.status === 'deleting' || cvm.status === 'error') {
      throw new DeployError(
        'unhealthy',
        `The CVM is ${cvm.status === 'error' ? 'in an error state' : 'being deleted'}.`,
      );
    }
    if (now() >= deadline)
      throw new DeployError('unhealthy', `The CVM did not become ready in time (last status: ${cvm.rawStatus}).`);
    await sleep(interval);
  }
}

/** The provider reports the CVM running. */
export const isRunning = (cvm: PhalaCvm): boolean => cvm.status === 'running';
