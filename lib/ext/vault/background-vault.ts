import { browser } from 'wxt/browser';
import type { VaultEvent } from '../../vault/client';
import { VaultDb } from '../../vault/db';
import { VaultService } from '../../vault/vault-service';
import { startHubBackground } from '../hub/hub-background';
import { storageArea } from '../rpc/rpc-channel';
import { startSyncBackground } from '../sync/sync-background';
import type { NewIntentNotice } from '../hub/hub-core';
import { Keyholder, runVaultMethod } from './keyholder';
import { ALARMS } from '../../storage/persisted-keys';
import { decodeWire, encodeWire, isVaultRpcRequest, VAULT_EVENT_CHANNEL, type VaultEventMessage } from '../rpc/rpc-protocol';

/** Only our own extension pages may talk to the keyholder: no content scripts, no other extensions. */
export function isTrustedSender(sender: { id?: string; url?: string; tab?: unknown }): boolean {
  if (sender.id !== browser.runtime.id || !sender.url) return false;
  return sender.url.startsWith(browser.runtime.getURL('/'));
}

function broadcast(event: VaultEvent): void {
  const message: VaultEventMessage = { channel: VAULT_EVENT_CHANNEL, event };
  // No page open is normal: nobody to tell.
  browser.runtime.sendMessage(message).catch(() => {});
}

/**
 * Wires the keyholder to the browser. Listeners are registered synchronously, as MV3 requires, so a message or
 * alarm that wakes a stopped worker is delivered.
 */
export function startBackgroundVault(): { keyholder: Keyholder; announce: (notices: NewIntentNotice[]) => void } {
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

  browser.runtime.onMessage.addListener((message: unknown, sender, sendResponse) => {
    if (!isVaultRpcRequest(message)) return undefined;
    if (!isTrustedSender(sender)) {
      sendResponse({ ok: false, error: { code: 'forbidden', message: 'Only Clawkeep pages may use the vault.' } });
      return true;
    }
    // sendResponse + `return true` is the form both Chromium and WXT's fake browser honour.
    void runVaultMethod(keyholder, message.method, decodeWire(message.args)).then((response) =>
      sendResponse(response.ok ? { ok: true, value: encodeWire(response.value) } : response),
    );
    return true;
  });

  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === ALARMS.autolock) void keyholder.checkIdle();
  });

  const hub = startHubBackground(keyholder, isTrustedSender);
  const sync = startSyncBackground({
    vault: keyholder,
    connection: (service) => hub.hub.syncConnection(service),
    // A pull changed items: pages refresh and the hub side re-checks what depends on items (as for a local edit).
    itemsChanged: () => {
      broadcast({ type: 'items-changed' });
      hub.onVaultEvent({ type: 'items-changed' });
    },
    isTrustedSender,
  });
  onVaultEvent = (event) => {
    hub.onVaultEvent(event);
    sync.onVaultEvent(event);
  };

  // A browser restart always starts locked, even where session storage outlived the browser.
  browser.runtime.onStartup.addListener(() => void keyholder.lock());
  return { keyholder, announce: hub.announce };
}
