import { ClawkeepError } from '../../errors';
import { PendingMirror } from '../../hub-client/pending-mirror';
import type { Intent } from '../../protocol/wire';
import type { HubCore } from '../hub/hub-core';
import { migrateLegacyInstallations, refreshInstallations } from '../hub/hub-installations';
import type { PendingIntents } from './hub-pending';
import { sleep } from '../../sleep';

export const POLL_INTERVAL_MS = 5_000;
export const BACKOFF_MIN_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;

/**
 * The live subscription: GET /v1/events read with fetch (no EventSource in a service worker); when the stream
 * fails it reconnects with exponential backoff (1 s → 30 s) and polls GET /v1/intents?status=pending every 5 s
 * in between. Owns the running loop; what it hears goes to the pending list. The hub sends a snapshot and then
 * only diffs (issue 16); the mirror applies them and its resume id goes back as Last-Event-ID on reconnect, so a
 * stream that ended (its 15-minute lifetime, a network change) resumes with what changed, not the whole list.
 */
export class Subscription {
  private loop: AbortController | null = null;
  private readonly mirror = new PendingMirror();
  /** The hub the mirror belongs to (settings may switch hubs). */
  private mirrorHub: string | null = null;

  constructor(
    private readonly core: HubCore,
    private readonly pending: PendingIntents,
  ) {}

  /** Starts the live subscription if the vault is unlocked and this device is enrolled (worker wake, alarm, unlock). */
  async ensureRunning(): Promise<void> {
    const core = this.core;
    await core.ready;
    if (this.loop || !core.vault.isUnlocked) return;
    // Unlock: the installation records come out of the vault (an unreadable record is reported, never trusted).
    await core.ensureInstallations().catch((err) => core.status.failed(err));
    let enrolled = false;
    try {
      enrolled = await core.vault.withUnlocked(async (service) => core.isEnrolled(await service.deviceSigner()), {
        activity: false,
      });
    } catch {
      return;
    }
    if (!enrolled || this.loop) return;
    void migrateLegacyInstallations(core).catch(() => {}); // plaintext records of older versions (hub-installations.ts)
    const controller = new AbortController();
    this.loop = controller;
    void this.run(controller.signal).finally(() => {
      if (this.loop === controller) {
        this.loop = null;
        core.status.setConnection('off');
      }
    });
  }

  /** Stops the subscription (the connection shows 'off'). */
  halt(): void {
    this.loop?.abort();
    this.loop = null;
    // Locked or stopped: the copy of the pending list (payloads) is not kept; the next start takes a snapshot.
    this.mirror.reset();
    this.mirrorHub = null;
    this.core.status.stopped();
  }

  private async run(signal: AbortSignal): Promise<void> {
    const core = this.core;
    let backoff = BACKOFF_MIN_MS;
    void refreshInstallations(core).catch(() => {});
    while (!signal.aborted) {
      let opened = false;
      try {
        if (!core.vault.isUnlocked) break;
        core.status.setConnection('connecting');
        const client = await core.client(false);
        const hub = core.hub;
        if (this.mirrorHub !== hub) {
          this.mirror.reset();
          this.mirrorHub = hub;
        }
        await client.events(
          (event) => {
            // A malformed event is reported and ends the stream: the copy may miss a change, so the next
            // connection starts from a snapshot.
            let list: Intent[] | null;
            try {
              list = this.mirror.apply(event);
            } catch (err) {
              this.mirror.resumeId = null;
              core.status.failed(err);
              throw err;
            }
            if (list) void this.pending.set(list);
          },
          {
            ...(this.mirror.resumeId !== null ? { lastEventId: this.mirror.resumeId } : {}),
            signal,
            onOpen: () => {
              opened = true;
              backoff = BACKOFF_MIN_MS;
              core.status.clearError();
              core.status.setConnection('stream');
            },
          },
        );
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof ClawkeepError && err.code === 'vault_locked') break;
      } finally {
        this.mirror.disconnected();
      }
      if (signal.aborted) break;
      // The stream ended or could not start: poll until the next attempt.
      core.status.setConnection('polling');
      const until = core.ports.now() + backoff;
      do {
        await this.pollOnce();
        await sleep(Math.min(POLL_INTERVAL_MS, until - core.ports.now()), signal);
      } while (!signal.aborted && core.ports.now() < until);
      backoff = opened ? BACKOFF_MIN_MS : Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }

  /** One GET /v1/intents?status=pending; errors are kept for display, never thrown. */
  async pollOnce(): Promise<void> {
    const core = this.core;
    try {
      const client = await core.client(false);
      const intents = await client.pendingIntents();
      // The whole list, at least as new as the last event: the stream's next diffs still apply to it.
      if (this.mirrorHub === core.hub) this.mirror.replace(intents);
      await this.pending.set(intents);
      core.status.clearError();
    } catch (err) {
      core.status.failed(err);
      core.ports.changed();
    }
  }
}
