import { browser } from 'wxt/browser';
import { createStore, get, set } from 'idb-keyval';
import type { PendingApproval } from '../../openclaw/approvals';
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../../openclaw/device-identity';
import type { VaultService } from '../../vault/vault-service';
import { badgeAction, showPendingCount } from '../approvals/hub-badge';
import type { NewIntentNotice } from '../hub/hub-core';
import { ALARMS, KEYHOLDER_SESSION, OPENCLAW_IDENTITY_DB } from '../../storage/persisted-keys';
import type { ItemStore } from './openclaw-config';
import { broadcaster, serveService } from '../rpc/service-server';
import { storageArea } from '../storage-area';
import { OPENCLAW_SERVICE } from './openclaw-api';
import { OpenClawService } from './openclaw-service';

/** The keyholder as seen here (the same surface the hub service uses). */
export interface OpenClawKeyholder {
  whenReady(): Promise<void>;
  readonly isUnlocked: boolean;
  withUnlocked<T>(fn: (service: VaultService) => Promise<T>, options: { activity: boolean }): Promise<T>;
}

export function itemStoreOf(service: VaultService): ItemStore {
  return {
    list: () => service.listInBackground(),
    get: (id) => service.get({ id }),
    save: (draft) => service.save({ draft }),
    remove: (id) => service.remove({ id }),
  };
}

let identityStore: ReturnType<typeof createStore> | null = null;
/** The device identity: a non-extractable Ed25519 key, kept as a CryptoKey in a database of its own. */
function deviceIdentity(): Promise<DeviceIdentity> {
  identityStore ??= createStore(OPENCLAW_IDENTITY_DB.name, OPENCLAW_IDENTITY_DB.stores[0]!);
  const store = identityStore;
  return loadOrCreateDeviceIdentity({ get: (k) => get(k, store), set: (k, v) => set(k, v, store) });
}

/** New gateway approvals as approval-window / notification notices (what and who only, never the command). */
export function approvalNotices(fresh: PendingApproval[]): NewIntentNotice[] {
  return fresh.map((a) => ({
    intent_id: `openclaw-${a.kind}-${a.id}`,
    kind: a.kind === 'exec' ? 'run a command' : 'a plugin action',
    agentName: a.agentId ? `OpenClaw agent ${a.agentId}` : 'OpenClaw',
  }));
}

/**
 * Wires the OpenClaw operator to the browser: its service channel (OPENCLAW_SERVICE, our own pages only), the badge
 * (added to the hub's count), an alarm that reconnects after a worker restart, and lock / unlock, seen as the
 * keyholder's storage.session record appearing or going away (the worker's own broadcasts do not reach it).
 */
export function startOpenClawBackground(
  keyholder: OpenClawKeyholder,
  announce?: (notices: NewIntentNotice[]) => void,
): OpenClawService {
  const changed = broadcaster(OPENCLAW_SERVICE);
  const service = new OpenClawService({
    vault: {
      whenReady: () => keyholder.whenReady(),
      get isUnlocked() {
        return keyholder.isUnlocked;
      },
      withItems: (fn) => keyholder.withUnlocked((s) => fn(itemStoreOf(s)), { activity: false }),
    },
    WebSocketImpl: WebSocket,
    identity: deviceIdentity,
    origin: new URL(browser.runtime.getURL('/')).origin,
    session: storageArea('session'),
    badge: (count) => void showPendingCount(badgeAction(), count, 'openclaw'),
    changed: () => changed(),
    newApprovals: (fresh) => announce?.(approvalNotices(fresh)),
    clientVersion: browser.runtime.getManifest().version,
    platform: 'web',
  });

  serveService(OPENCLAW_SERVICE, service);

  browser.storage.session.onChanged?.addListener((changes) => {
    if (!(KEYHOLDER_SESSION.key in changes)) return;
    const c = changes[KEYHOLDER_SESSION.key]!;
    if (c.newValue === undefined) void service.stop(true);
    else if (c.oldValue === undefined) void service.ensureRunning();
  });

  try {
    void Promise.resolve(browser.alarms.create(ALARMS.openclaw, { periodInMinutes: 1 })).catch(() => {});
    browser.alarms.onAlarm.addListener((alarm) => {
      if (alarm.name === ALARMS.openclaw) void service.ensureRunning();
    });
  } catch {
    // no alarms API: the connection still starts on unlock and on wake
  }
  // A woken worker reconnects if the vault came back unlocked from storage.session.
  void service.ensureRunning();
  return service;
}
