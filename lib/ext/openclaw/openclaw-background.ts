import { browser } from 'wxt/browser';
import { createStore, get, set } from 'idb-keyval';
import type { ApprovalDecision, ApprovalKind, PendingApproval } from '../../openclaw/approvals';
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../../openclaw/device-identity';
import { OpenClawError } from '../../openclaw/errors';
import { ClawkeepError } from '../../errors';
import type { VaultService } from '../../vault/vault-service';
import { badgeAction, showPendingCount } from '../approvals/hub-badge';
import type { NewIntentNotice } from '../hub/hub-core';
import { SESSION_KEY } from '../vault/keyholder';
import type { ItemStore } from './openclaw-config';
import { OPENCLAW_EVENT_CHANNEL, OPENCLAW_METHODS, OPENCLAW_RPC_CHANNEL, type OpenClawEventMessage, type OpenClawMethod, type OpenClawRpcResponse } from './openclaw-rpc';
import { serveChannel, storageArea } from '../rpc/rpc-channel';
import { OpenClawService } from './openclaw-service';

export const OPENCLAW_ALARM = 'clawkeep.openclaw.sync';

/** The keyholder as seen here (the same surface the hub service uses). */
export interface OpenClawKeyholder {
  whenReady(): Promise<void>;
  readonly isUnlocked: boolean;
  withUnlocked<T>(fn: (service: VaultService) => Promise<T>, options: { activity: boolean }): Promise<T>;
}

export function itemStoreOf(service: VaultService): ItemStore {
  return {
    list: () => service.list(),
    get: (id) => service.get({ id }),
    save: (draft) => service.save({ draft }),
    remove: (id) => service.remove({ id }),
  };
}

/** Runs one RPC method; failures become `{code, message}` (never a stack, never a token). */
export async function runOpenClawMethod(service: OpenClawService, method: OpenClawMethod, args: Record<string, unknown> | null): Promise<OpenClawRpcResponse> {
  const a = args ?? {};
  const str = (k: string) => (typeof a[k] === 'string' ? (a[k]) : '');
  try {
    let value: unknown;
    switch (method) {
      case 'state': value = service.state(); break;
      case 'save': value = await service.save(str('url'), str('token'), a.allAgents === true); break;
      case 'connect': value = await service.connect(); break;
      case 'disconnect': value = await service.disconnect(); break;
      case 'forget': value = await service.forget(); break;
      case 'resolve': value = await service.resolve(str('kind') as ApprovalKind, str('id'), str('decision') as ApprovalDecision); break;
    }
    return { ok: true, value: value ?? null };
  } catch (err) {
    if (err instanceof OpenClawError || err instanceof ClawkeepError) return { ok: false, error: { code: err.code, message: err.message } };
    return { ok: false, error: { code: 'internal', message: 'Unexpected failure.' } };
  }
}

let identityStore: ReturnType<typeof createStore> | null = null;
/** The device identity: a non-extractable Ed25519 key, kept as a CryptoKey in a database of its own. */
function deviceIdentity(): Promise<DeviceIdentity> {
  identityStore ??= createStore('clawkeep-openclaw', 'identity');
  const store = identityStore;
  return loadOrCreateDeviceIdentity({ get: (k) => get(k, store), set: (k, v) => set(k, v, store) });
}

/**
 * Wires the OpenClaw operator to the browser: the RPC (our own pages only), the badge (added to the hub's count),
 * an alarm that reconnects after a worker restart, and lock / unlock, seen as the keyholder's storage.session
 * record appearing or going away (the worker's own broadcasts do not reach it).
 */
/** New gateway approvals as approval-window / notification notices (what and who only, never the command). */
export function approvalNotices(fresh: PendingApproval[]): NewIntentNotice[] {
  return fresh.map((a) => ({
    intent_id: `openclaw-${a.kind}-${a.id}`,
    kind: a.kind === 'exec' ? 'run a command' : 'a plugin action',
    agentName: a.agentId ? `OpenClaw agent ${a.agentId}` : 'OpenClaw',
  }));
}

export function startOpenClawBackground(
  keyholder: OpenClawKeyholder,
  isTrustedSender: (sender: { id?: string; url?: string }) => boolean,
  announce?: (notices: NewIntentNotice[]) => void,
): OpenClawService {
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
    changed: () => {
      const message: OpenClawEventMessage = { channel: OPENCLAW_EVENT_CHANNEL, type: 'openclaw-changed' };
      browser.runtime.sendMessage(message).catch(() => {});
    },
    newApprovals: (fresh) => announce?.(approvalNotices(fresh)),
    clientVersion: browser.runtime.getManifest().version,
    platform: 'web',
  });

  serveChannel(OPENCLAW_RPC_CHANNEL, OPENCLAW_METHODS, isTrustedSender, 'Only Clawkeep pages may use the OpenClaw connection.', (method, args) =>
    runOpenClawMethod(service, method, args),
  );

  browser.storage.session.onChanged?.addListener((changes) => {
    if (!(SESSION_KEY in changes)) return;
    const c = changes[SESSION_KEY];
    if (c.newValue === undefined) void service.stop(true);
    else if (c.oldValue === undefined) void service.ensureRunning();
  });

  try {
    void Promise.resolve(browser.alarms.create(OPENCLAW_ALARM, { periodInMinutes: 1 })).catch(() => {});
    browser.alarms.onAlarm.addListener((alarm) => {
      if (alarm.name === OPENCLAW_ALARM) void service.ensureRunning();
    });
  } catch {
    // no alarms API: the connection still starts on unlock and on wake
  }
  // A woken worker reconnects if the vault came back unlocked from storage.session.
  void service.ensureRunning();
  return service;
}
