import { HubClient } from '../hub-client/client';
import { deviceKeyId } from '../protocol/keys';
import { VaultLockedError } from '../errors';
import type { VaultEvent } from '../vault/client';
import type { VaultService } from '../vault/vault-service';
import { SyncService, type SyncApi, type SyncConnection } from '../sync/sync-service';
import { trustedHeadSigners } from '../sync/trusted-devices';

/**
 * Vault sync for the web vault: the same SyncService as the extension's background, run in the page next to the
 * page's VaultService (the key never leaves the page). `joined()` says which hub and account this vault belongs to.
 */
export function createPageSync(deps: {
  service: VaultService;
  events: { subscribe(listener: (event: VaultEvent) => void): () => void; emit(event: VaultEvent): void };
  joined(): { hubUrl: string; accountId: string } | null;
  fetch?: typeof fetch;
}): SyncApi {
  const listeners = new Set<() => void>();
  let applyingPull = false;
  const connection = async (service: VaultService): Promise<SyncConnection | null> => {
    const j = deps.joined();
    if (!j) return null;
    const signer = await service.deviceSigner();
    const client = new HubClient({
      hub: j.hubUrl,
      signer: { role: 'human', keyId: deviceKeyId(signer.publicKey), sign: (m) => signer.sign(m) },
      fetch: deps.fetch,
    });
    const { keys, removed } = await trustedHeadSigners(
      client,
      { keyId: deviceKeyId(signer.publicKey), publicKey: signer.publicKey },
      j.accountId,
    );
    return {
      hub: client.hub,
      accountId: j.accountId,
      remote: { pull: (since) => client.pullVault(since), push: (body) => client.pushVault(body) },
      device: { publicKey: signer.publicKey, sign: (m) => signer.sign(m) },
      trustedDeviceKeys: async () => keys,
      removedDeviceKeys: async () => removed,
    };
  };
  const sync = new SyncService({
    vault: {
      get isUnlocked() {
        return deps.service.isUnlocked;
      },
      withUnlocked: async (fn) => {
        if (!deps.service.isUnlocked) throw new VaultLockedError();
        return fn(deps.service);
      },
    },
    connection,
    changed: () => listeners.forEach((l) => l()),
    itemsChanged: () => {
      applyingPull = true;
      try {
        deps.events.emit({ type: 'items-changed' });
      } finally {
        applyingPull = false;
      }
    },
    now: () => Date.now(),
  });
  deps.events.subscribe((event) => {
    if (event.type === 'locked') sync.reset();
    else if (event.type === 'unlocked') void sync.syncNow();
    else if (event.type === 'items-changed' && !applyingPull) sync.schedule();
  });
  const timer = setInterval(() => {
    if (deps.service.isUnlocked) void sync.syncNow();
  }, 60_000);
  (timer as { unref?: () => void }).unref?.();
  return {
    status: async () => sync.status(),
    syncNow: () => sync.syncNow(),
    resolve: (id, keep) => sync.resolve(id, keep),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
