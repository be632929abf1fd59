import { browser } from 'wxt/browser';
import { SyncService, type SyncConnection } from '../../sync/sync-service';
import type { VaultEvent } from '../../vault/client';
import type { VaultService } from '../../vault/vault-service';
import { broadcaster, serveService } from '../rpc/service-server';
import { SYNC_SERVICE } from './sync-api';
import { ALARMS } from '../../storage/persisted-keys';

export interface SyncBackgroundDeps {
  vault: {
    readonly isUnlocked: boolean;
    withUnlocked<T>(fn: (service: VaultService) => Promise<T>, options: { activity: boolean }): Promise<T>;
  };
  connection(service: VaultService): Promise<SyncConnection | null>;
  /** Tells pages (and the vault's other listeners) that items changed because of a pull. */
  itemsChanged(): void;
}

/**
 * Vault sync in the extension background: syncs on unlock, after local edits (debounced), every minute and on
 * demand, and serves the status to our pages. Items a pull changed are announced like local edits, without
 * scheduling another sync for them.
 */
export function startSyncBackground(deps: SyncBackgroundDeps) {
  let applyingPull = false;
  const announce = broadcaster(SYNC_SERVICE);
  const sync = new SyncService({
    vault: deps.vault,
    connection: deps.connection,
    changed: () => announce(),
    itemsChanged: () => {
      applyingPull = true;
      try {
        deps.itemsChanged();
      } finally {
        applyingPull = false;
      }
    },
    now: () => Date.now(),
  });
  serveService(SYNC_SERVICE, sync);
  try {
    void Promise.resolve(browser.alarms.create(ALARMS.vaultSync, { periodInMinutes: 1 })).catch(() => {});
    browser.alarms.onAlarm.addListener((alarm) => {
      if (alarm.name === ALARMS.vaultSync && deps.vault.isUnlocked) void sync.syncNow();
    });
  } catch {
    // no alarms API: sync still runs on unlock, edits and demand
  }
  if (deps.vault.isUnlocked) void sync.syncNow();
  return {
    sync,
    onVaultEvent(event: VaultEvent): void {
      if (event.type === 'locked') sync.reset();
      else if (event.type === 'unlocked') void sync.syncNow();
      else if (event.type === 'items-changed' && !applyingPull) sync.schedule();
    },
  };
}
