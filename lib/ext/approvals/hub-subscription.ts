import { ClawkeepError, errorMessage } from '../../errors';
import { parseIntentsEvent } from '../../hub-client/client';
import type { HubCore } from '../hub/hub-core';
import { migrateLegacyInstallations, refreshInstallations } from '../hub/hub-installations';
import { forgetPending, setPending } from './hub-pending';

export const POLL_INTERVAL_MS = 5_000;
export const BACKOFF_MIN_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;

/**
 * The live subscription: GET /v1/events read with fetch (no EventSource in a service worker); when the stream
 * fails it reconnects with exponential backoff (1 s → 30 s) and polls GET /v1/intents?status=pending every 5 s
 * in between.
 */

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/** Starts the live subscription if the vault is unlocked and this device is enrolled (worker wake, alarm, unlock). */
export async function ensureRunning(core: HubCore): Promise<void> {
  await core.ready;
  if (core.loop || !core.vault.isUnlocked) return;
  // Unlock: the installation records come out of the vault (an unreadable record is reported, never trusted).
  await core.ensureInstallations().catch((err) => void (core.lastError = errorMessage(err)));
  let enrolled = false;
  try {
    enrolled = await core.vault.withUnlocked(async (service) => core.isEnrolled(await service.deviceSigner()), { activity: false });
  } catch {
    return;
  }
  if (!enrolled || core.loop) return;
  void migrateLegacyInstallations(core).catch(() => {}); // plaintext records of older versions (hub-installations.ts)
  const controller = new AbortController();
  core.loop = controller;
  void run(core, controller.signal).finally(() => {
    if (core.loop === controller) {
      core.loop = null;
      core.setConnection('off');
    }
  });
}

/** Stops the subscription; on lock also forgets the pending list and clears the badge. */
export async function stop(core: HubCore, forget: boolean): Promise<void> {
  core.loop?.abort();
  core.loop = null;
  core.connection = 'off';
  if (forget) await forgetPending(core);
  core.ports.changed();
}

async function run(core: HubCore, signal: AbortSignal): Promise<void> {
  let backoff = BACKOFF_MIN_MS;
  void refreshInstallations(core).catch(() => {});
  while (!signal.aborted) {
    let opened = false;
    try {
      if (!core.vault.isUnlocked) break;
      core.setConnection('connecting');
      const client = await core.client(false);
      await client.events(
        (event) => {
          if (event.event !== 'intents') return;
          try {
            void setPending(core, parseIntentsEvent(event.data));
          } catch (err) {
            core.lastError = errorMessage(err);
          }
        },
        {
          signal,
          onOpen: () => {
            opened = true;
            backoff = BACKOFF_MIN_MS;
            core.lastError = null;
            core.setConnection('stream');
          },
        },
      );
    } catch (err) {
      if (signal.aborted) break;
      if (err instanceof ClawkeepError && err.code === 'vault_locked') break;
    }
    if (signal.aborted) break;
    // The stream ended or could not start: poll until the next attempt.
    core.setConnection('polling');
    const until = core.ports.now() + backoff;
    do {
      await pollOnce(core);
      await sleep(Math.min(POLL_INTERVAL_MS, until - core.ports.now()), signal);
    } while (!signal.aborted && core.ports.now() < until);
    backoff = opened ? BACKOFF_MIN_MS : Math.min(backoff * 2, BACKOFF_MAX_MS);
  }
}

/** One GET /v1/intents?status=pending; errors are kept for display, never thrown. */
export async function pollOnce(core: HubCore): Promise<void> {
  try {
    const client = await core.client(false);
    await setPending(core, await client.pendingIntents());
    core.lastError = null;
  } catch (err) {
    core.lastError = errorMessage(err);
    core.ports.changed();
  }
}
