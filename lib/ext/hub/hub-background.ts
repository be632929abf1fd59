import { browser } from 'wxt/browser';
import type { VaultEvent } from '../../vault/client';
import { startApprovalUi } from '../approvals/hub-approval-browser';
import { badgeAction, showPendingCount } from '../approvals/hub-badge';
import { broadcaster, serveService } from '../rpc/service-server';
import { storageArea } from '../storage-area';
import { HUB_SERVICE } from './hub-api';
import { hubFetch, mayReachHub } from './host-access';
import { HubService, type HubVault, type NewIntentNotice } from './hub-service';
import { ALARMS } from '../../storage/persisted-keys';

/**
 * Wires the hub service to the browser: its service channel (HUB_SERVICE, our own pages only), the badge, a
 * one-minute alarm that re-establishes the subscription after a worker restart, and the vault's lock / unlock events.
 */
export function startHubBackground(vault: HubVault, onEnrolled: () => void = () => {}) {
  const { newIntents, waitingWhileLocked } = startApprovalUi();
  const changed = broadcaster(HUB_SERVICE);
  const hub = new HubService(vault, {
    local: storageArea('local'),
    session: storageArea('session'),
    badge: (count) => void showPendingCount(badgeAction(), count),
    changed: () => changed(),
    // A saved hub whose origin lost its host permission is reported as such, not as unreachable.
    fetch: hubFetch((input, init) => fetch(input, init)),
    mayReach: mayReachHub,
    now: () => Date.now(),
    newIntents,
    waitingWhileLocked,
    enrolled: onEnrolled,
  });

  serveService(HUB_SERVICE, hub);

  try {
    void Promise.resolve(browser.alarms.create(ALARMS.hubSync, { periodInMinutes: 1 })).catch(() => {});
    browser.alarms.onAlarm.addListener((alarm) => {
      if (alarm.name === ALARMS.hubSync) {
        void hub.ensureRunning();
        void hub.syncConfigs();
      }
    });
  } catch {
    // no alarms API: the subscription still starts on unlock and on wake
  }
  // A woken worker resumes the subscription if the vault came back unlocked from storage.session.
  void hub.ensureRunning();

  return {
    hub,
    /** Other request sources (the OpenClaw gateway) open the same approval window / notification, with the hub's switches. */
    announce: (notices: NewIntentNotice[]) => newIntents(notices, hub.prefs()),
    onVaultEvent(event: VaultEvent): void {
      if (event.type === 'locked') void hub.stop(true);
      else if (event.type === 'unlocked') {
        void hub.ensureRunning();
        void hub.syncConfigs();
      } else if (event.type === 'items-changed') {
        hub.viewChanged();
        // An edited agent config is sealed and delivered again as its new revision.
        void hub.syncConfigs();
      }
    },
  };
}
