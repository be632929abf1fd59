import { HubClientError } from '../../hub-client/errors';
import { WatchClient } from '../../hub-client/watch-client';
import { WatchMirror } from '../../hub-client/pending-mirror';
import { deviceKeyId } from '../../protocol/keys';
import { newWatchToken, watchTokenHash, type WatchSnapshot } from '../../protocol/watch-wire';
import { HUB_WATCH, HUB_WATCH_SEEN } from '../../storage/persisted-keys';
import { readStored, removeStored, writeStored } from '../../storage/stored-item';
import type { HubCore } from '../hub/hub-core';
import { ensureHubIdentity } from '../hub/hub-identity';
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS, POLL_INTERVAL_MS } from './hub-subscription';
import { sleep } from '../../sleep';

type WatchRecord = { hub: string; device_key_id: string; token: string };

/** Codes after which the token is dead (unknown to the hub, device removed): forgotten, re-registered at next unlock. */
const DEAD_TOKEN = new Set<string>(['auth_unknown_key', 'auth_missing', 'device_revoked']);

/**
 * The locked watcher (issue 15, docs/threat-model.md "Locked watcher"). The device key lives in the encrypted vault,
 * so a locked extension cannot sign: instead, while unlocked, it registers a random watch token with the hub
 * (device-signed PUT /v1/watch) and keeps it in chrome.storage.local; while locked it reads GET /v1/watch/events with
 * that token (polling GET /v1/watch when the stream fails) and learns how many requests wait and their ids, nothing
 * more. What it does with that is as narrow: the badge count, the locked screen's sentence, and for an id it has not
 * announced yet the approval window (which asks to unlock) or the opt-in notification. It never decides anything,
 * and it sends the token only to a hub that proved the identity key pinned at enrolment.
 */
export class LockedWatch {
  private loop: AbortController | null = null;
  private pending = 0;
  /** Ids already announced (window / notification) while locked, or shown while unlocked before the lock. */
  private seen = new Set<string>();

  constructor(private readonly core: HubCore) {}

  /** How many requests the hub last said wait, while locked (0 when not watching). */
  get waiting(): number {
    return this.loop ? this.pending : 0;
  }

  private async records(): Promise<WatchRecord[]> {
    return (await readStored(this.core.ports.local, HUB_WATCH, { apiFailure: 'absent' }).catch(() => null)) ?? [];
  }

  /** The token for the current hub, if it belongs to a device enrolled there. */
  private async current(): Promise<WatchRecord | null> {
    const hub = this.core.hub;
    const enrolled = this.core.settings!.enrolled[hub] ?? [];
    return (await this.records()).find((r) => r.hub === hub && enrolled.includes(r.device_key_id)) ?? null;
  }

  /**
   * Unlocked and enrolled (enrolment, join, every unlock: this also migrates devices enrolled before the watcher
   * existed): registers a watch token unless this device has one for this hub. Failures wait for the next unlock.
   */
  async ensureRegistered(): Promise<void> {
    const core = this.core;
    await core.ready;
    if (!core.vault.isUnlocked) return;
    const signer = await core.signer(false);
    if (!core.isEnrolled(signer)) return;
    const keyId = deviceKeyId(signer.publicKey);
    const hub = core.hub;
    const records = await this.records();
    if (records.some((r) => r.hub === hub && r.device_key_id === keyId)) return;
    const token = newWatchToken();
    const client = await core.client(false);
    await client.registerWatch(watchTokenHash(token));
    const others = records.filter((r) => r.hub !== hub);
    await writeStored(core.ports.local, HUB_WATCH, [...others, { hub, device_key_id: keyId, token }]);
  }

  /** Lock: what the person saw while unlocked is not new; then start watching. */
  async locked(shownIds: readonly string[]): Promise<void> {
    this.seen = new Set(shownIds);
    // Only a device that watches keeps anything: a vault with no enrolment leaves session storage empty at lock.
    if (await this.current().catch(() => null))
      await writeStored(this.core.ports.session, HUB_WATCH_SEEN, {
        hub: this.core.hub,
        pending: shownIds.length,
        ids: [...this.seen],
      }).catch(() => {});
    await this.ensureRunning();
  }

  /** Starts watching if the vault is locked and a token exists for this hub (worker wake, alarm, lock). */
  async ensureRunning(): Promise<void> {
    const core = this.core;
    await core.ready;
    if (this.loop || core.vault.isUnlocked) return;
    const record = await this.current();
    if (!record || this.loop || core.vault.isUnlocked) return;
    // A restarted worker: the badge at once, and what was announced before is not announced again.
    const stored = await readStored(core.ports.session, HUB_WATCH_SEEN, { apiFailure: 'absent' }).catch(() => null);
    if (stored?.hub === core.hub) {
      this.seen = new Set(stored.ids);
      this.pending = stored.pending;
      core.ports.badge(this.pending);
    }
    const controller = new AbortController();
    this.loop = controller;
    void this.run(record, controller.signal).finally(() => {
      if (this.loop === controller) this.loop = null;
    });
  }

  /** Unlock (the signed subscription takes over) or hub change: stops watching; `forget` drops what it heard. */
  halt(forget: boolean): void {
    this.loop?.abort();
    this.loop = null;
    if (forget) {
      this.pending = 0;
      this.seen.clear();
      void removeStored(this.core.ports.session, HUB_WATCH_SEEN).catch(() => {});
    }
  }

  private async run(record: WatchRecord, signal: AbortSignal): Promise<void> {
    const core = this.core;
    const client = new WatchClient(record.hub, record.token, core.ports.fetch);
    // Ids from the stream's snapshot and diffs; its resume id makes a reconnect send only what changed (issue 16).
    const mirror = new WatchMirror();
    let backoff = BACKOFF_MIN_MS;
    while (!signal.aborted) {
      let opened = false;
      try {
        // The token goes only to the hub this device enrolled with (hub-identity.ts).
        await ensureHubIdentity(core, false);
        await client.events((snapshot) => void this.heard(snapshot, signal), {
          mirror,
          signal,
          onOpen: () => {
            opened = true;
            backoff = BACKOFF_MIN_MS;
          },
        });
      } catch (err) {
        if (signal.aborted) break;
        if (await this.deadToken(err, record)) break;
      }
      if (signal.aborted) break;
      const until = core.ports.now() + backoff;
      do {
        try {
          await ensureHubIdentity(core, false);
          const snapshot = await client.snapshot(signal);
          mirror.replace(snapshot);
          await this.heard(snapshot, signal);
        } catch (err) {
          if (signal.aborted || (await this.deadToken(err, record))) return;
        }
        await sleep(Math.min(POLL_INTERVAL_MS, until - core.ports.now()), signal);
      } while (!signal.aborted && core.ports.now() < until);
      backoff = opened ? BACKOFF_MIN_MS : Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }

  /** A token the hub no longer knows is forgotten; the next unlock registers a new one. */
  private async deadToken(err: unknown, record: WatchRecord): Promise<boolean> {
    if (!(err instanceof HubClientError && DEAD_TOKEN.has(err.code))) return false;
    const records = await this.records();
    await writeStored(
      this.core.ports.local,
      HUB_WATCH,
      records.filter((r) => !(r.hub === record.hub && r.token === record.token)),
    ).catch(() => {});
    this.pending = 0;
    this.core.ports.badge(0);
    this.core.ports.changed();
    return true;
  }

  /** What the hub said: the count on the badge and the locked screen; ids not announced yet open the window. */
  private async heard(snapshot: WatchSnapshot, signal: AbortSignal): Promise<void> {
    const core = this.core;
    if (signal.aborted || core.vault.isUnlocked) return;
    const fresh = snapshot.intent_ids.filter((id) => !this.seen.has(id));
    this.pending = snapshot.pending;
    this.seen = new Set(snapshot.intent_ids);
    core.ports.badge(this.pending);
    core.ports.changed();
    await writeStored(core.ports.session, HUB_WATCH_SEEN, {
      hub: core.hub,
      pending: this.pending,
      ids: [...this.seen],
    }).catch(() => {});
    if (fresh.length > 0 && !signal.aborted) core.ports.waitingWhileLocked?.(fresh.length, core.prefs());
  }
}
