import { browser } from 'wxt/browser';
import { VaultDb } from '../../vault/db';
import { VaultService } from '../../vault/vault-service';
import type { VaultEvent } from '../../vault/client';
import { startHubBackground } from '../hub/hub-background';
import { implementByDispatch } from '../rpc/service';
import { broadcaster, serveService } from '../rpc/service-server';
import { storageArea } from '../storage-area';
import { startSyncBackground } from '../sync/sync-background';
import type { NewIntentNotice } from '../hub/hub-core';
import { Keyholder } from './keyholder';
import { ALARMS } from '../../storage/persisted-keys';
import { VAULT_SERVICE } from './vault-api';

/**
 * Wires the keyholder to the browser. Listeners are registered synchronously, as MV3 requires, so a message or
 * alarm that wakes a stopped worker is delivered.
 */
export function startBackgroundVault(): { keyholder: Keyholder; announce: (notices: NewIntentNotice[]) => void } {
  const broadcast = broadcaster(VAULT_SERVICE);
  // The hub service hears lock / unlock / item changes too (it stops syncing and clears the badge on lock).
  let onVaultEvent: (event: VaultEvent) => void = () => {};
  const keyholder = new Keyholder(new VaultService(new VaultDb()), {
    session: storageArea('session'),
    alarms: {
      create: (name, info) => browser.alarms.create(name, info),
      clear: (name) => browser.alarms.clear(name),
    },
    broadcast: (event) => {
      broadcast(event);
      onVaultEvent(event);
    },
    now: () => Date.now(),
  });

  // Every vault method runs through the keyholder, which applies the idle check and activity tracking around it.
  serveService(
    VAULT_SERVICE,
    implementByDispatch(VAULT_SERVICE, (method, args) => keyholder.handle(method, args[0] ?? null)),
  );

  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === ALARMS.autolock) void keyholder.checkIdle();
  });

  // Enrolling or joining gives sync its connection: sync at once rather than on the next one-minute alarm.
  let syncNow = (): void => {};
  const hub = startHubBackground(keyholder, () => syncNow());
  const sync = startSyncBackground({
    vault: keyholder,
    connection: (service) => hub.hub.syncConnection(service),
    // A pull changed items: pages refresh and the hub side re-checks what depends on items (as for a local edit).
    itemsChanged: () => {
      broadcast({ type: 'items-changed' });
      hub.onVaultEvent({ type: 'items-changed' });
    },
  });
  syncNow = () => void sync.sync.syncNow();
  onVaultEvent = (event) => {
    hub.onVaultEvent(event);
    sync.onVaultEvent(event);
  };

  // A browser restart always starts locked, even where session storage outlived the browser.
  browser.runtime.onStartup.addListener(() => void keyholder.lock());
  return { keyholder, announce: hub.announce };
}
