import { browser } from 'wxt/browser';
import { fromBase64 } from '../../bytes';
import { ClawkeepError } from '../../errors';
import type { Policy } from '../../protocol/approval';
import { HubClientError } from '../../hub-client/errors';
import type { VaultEvent } from '../../vault/client';
import { startApprovalUi } from '../approvals/hub-approval-browser';
import { badgeAction, showPendingCount } from '../approvals/hub-badge';
import { HUB_EVENT_CHANNEL, HUB_METHODS, HUB_RPC_CHANNEL, type HubEventMessage, type HubMethod, type HubRpcResponse } from './hub-rpc';
import { serveChannel, storageArea } from '../rpc/rpc-channel';
import { HubService, type HubVault, type NewIntentNotice } from './hub-service';

export const HUB_SYNC_ALARM = 'clawkeep.hub.sync';

/** Runs one hub RPC method; any failure becomes a typed, message-safe error (never a stack, never a secret). */
export async function runHubMethod(hub: HubService, method: HubMethod, args: Record<string, unknown> | null): Promise<HubRpcResponse> {
  const a = args ?? {};
  const str = (k: string) => (typeof a[k] === 'string' ? (a[k]) : '');
  try {
    let value: unknown;
    switch (method) {
      case 'state': value = await hub.state(); break;
      case 'setHubUrl': value = await hub.setHubUrl(str('hubUrl')); break;
      case 'enroll': value = await hub.enroll(str('enrollmentCode')); break;
      case 'lookupClaim': value = await hub.lookupClaim(str('claimCode')); break;
      case 'claim': value = await hub.claim(str('claimCode'), Array.isArray(a.grantedScopes) ? (a.grantedScopes as string[]) : [], (a.policy ?? null) as Policy | null); break;
      case 'refresh': value = await hub.refresh(); break;
      case 'revoke': value = await hub.revoke(str('installationId')); break;
      case 'enableInstallation': value = await hub.enableInstallation(str('installationId')); break;
      case 'setPrefs': value = await hub.setPrefs(a); break;
      case 'decide': value = await hub.decide(str('intentId'), str('payloadHash'), str('decision') as 'approve' | 'deny', a.remember === true); break;
      case 'revokeStandingApproval': value = await hub.revokeStandingApproval(str('id')); break;
      case 'denyAllFromAgent': value = await hub.denyAllFromAgent(str('agentId')); break;
      case 'assignConfig': value = await hub.assignConfig(str('configId'), str('installationId')); break;
      case 'unassignConfig': value = await hub.unassignConfig(str('installationId')); break;
      case 'activity': value = await hub.activity(typeof a.before === 'number' ? a.before : undefined); break;
      case 'lookupDevice': value = await hub.lookupDevice(str('code')); break;
      case 'approveDevice': value = await hub.approveDevice(str('pairingId')); break;
      case 'devices': value = await hub.devices(); break;
      case 'denyDevice': await hub.denyDevice(str('pairingId')); break;
      case 'removeDevice': value = await hub.removeDevice(str('deviceKeyId')); break;
      case 'startJoin': value = await hub.startJoin(str('hubUrl'), str('name')); break;
      case 'pollJoin': value = await hub.pollJoin(); break;
      case 'cancelJoin': hub.cancelJoin(); break;
      // Bytes travel base64 on this channel; the KEK is consumed (wiped) by the vault service.
      case 'finishJoin': await hub.finishJoin({ kdf: a.kdf, salt: fromBase64(str('salt')), kek: fromBase64(str('kek')) }); break;
    }
    return { ok: true, value: value ?? null };
  } catch (err) {
    if (err instanceof HubClientError || err instanceof ClawkeepError) return { ok: false, error: err.toJSON() };
    return { ok: false, error: { code: 'internal', message: 'Unexpected failure.' } };
  }
}

/**
 * Wires the hub service to the browser: the hub RPC (our own pages only), the badge, a one-minute alarm that
 * re-establishes the subscription after a worker restart, and the vault's lock / unlock events.
 */
export function startHubBackground(vault: HubVault, isTrustedSender: (sender: { id?: string; url?: string }) => boolean) {
  const newIntents = startApprovalUi(() => vault.isUnlocked);
  const hub = new HubService(vault, {
    local: storageArea('local'),
    session: storageArea('session'),
    badge: (count) => void showPendingCount(badgeAction(), count),
    changed: () => {
      const message: HubEventMessage = { channel: HUB_EVENT_CHANNEL, type: 'hub-changed' };
      browser.runtime.sendMessage(message).catch(() => {});
    },
    fetch: (input, init) => fetch(input, init),
    now: () => Date.now(),
    newIntents,
  });

  serveChannel(HUB_RPC_CHANNEL, HUB_METHODS, isTrustedSender, 'Only Clawkeep pages may use the hub.', (method, args) => runHubMethod(hub, method, args));

  try {
    void Promise.resolve(browser.alarms.create(HUB_SYNC_ALARM, { periodInMinutes: 1 })).catch(() => {});
    browser.alarms.onAlarm.addListener((alarm) => {
      if (alarm.name === HUB_SYNC_ALARM) {
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
