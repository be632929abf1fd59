import { browser } from 'wxt/browser';
import { ALARMS } from '../../storage/persisted-keys';
import { ClawkeepError } from '../../errors';
import { SyncError } from '../../protocol/sync-errors';
import { SyncService, type SyncConnection } from '../../sync/sync-service';
import type { VaultEvent } from '../../vault/client';
import type { VaultService } from '../../vault/vault-service';
import { serveChannel, type ChannelResponse } from '../rpc/rpc-channel';
import { SYNC_EVENT_CHANNEL, SYNC_METHODS, SYNC_RPC_CHANNEL, type SyncMethod } from './sync-rpc';

export interface SyncBackgroundDeps {
  vault: { readonly isUnlocked: boolean; withUnlocked<T>(fn: (service: VaultService) => Promise<T>, options: { activity: boolean }): Promise<T> };
  connection(service: VaultService): Promise<SyncConnection | null>;
  /** Tells pages (and the vault's other listeners) that items changed because of a pull. */
  itemsChanged(): void;
  isTrustedSender(sender: { id?: string; url?: string }): boolean;
}

async function runSyncMethod(sync: SyncService, method: SyncMethod, args: Record<string, unknown> | null): Promise<ChannelResponse> {
  const a = args ?? {};
  try {
    let value: unknown;
    switch (method) {
      case 'status': value = sync.status(); break;
      case 'syncNow': value = await sync.syncNow(); break;
      case 'resolve': {
        if (typeof a.id !== 'string' || (a.keep !== 'mine' && a.keep !== 'theirs')) throw new SyncError('sync_refused', 'Pick "mine" or "theirs".');
        value = await sync.resolve(a.id, a.keep);
        break;
      }
    }
    return { ok: true, value: value ?? null };
  } catch (err) {
    if (err instanceof SyncError || err instanceof ClawkeepError) return { ok: false, error: { code: err.code, message: err.message } };
    return { ok: false, error: { code: 'sync_refused', message: 'Unexpected failure.' } };
  }
}

/**
 * Vault sync in the extension background: syncs on unlock, after local edits (debounced), every minute and on
 * demand, and serves the status to our pages. Items a pull changed are announced like local edits, without
 * scheduling another sync for them.
 */
export function startSyncBackground(deps: SyncBackgroundDeps) {
  let applyingPull = false;
  const sync = new SyncService({
    vault: deps.vault,
    connection: deps.connection,
    changed: () => void browser.runtime.sendMessage({ channel: SYNC_EVENT_CHANNEL, type: 'sync-changed' }).catch(() => {}),
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
  serveChannel(SYNC_RPC_CHANNEL, SYNC_METHODS, deps.isTrustedSender, 'Only Clawkeep pages may use sync.', (method, args) => runSyncMethod(sync, method, args));
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
