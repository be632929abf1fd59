import type { KdfRunner } from '../crypto/kdf-runner';
import type { BackendStatus, VaultBackend } from '../vault/backend';
import type { VaultClient, VaultEvent } from '../vault/client';
import { VaultDb } from '../vault/db';
import { VaultEvents } from '../vault/events';
import { IdleTimer } from '../vault/idle-timer';
import { PassphraseVaultClient } from '../vault/passphrase-client';
import { VaultService } from '../vault/vault-service';
import { createPageDeviceApi, type PageDeviceApi, type SmallStore } from './page-devices';
import { createPageSync } from './page-sync';
import type { SyncApi } from '../sync/sync-service';

const CHANNEL = 'clawkeep-web-vault';

/**
 * The web vault's backend: the key lives in this page's memory only (a reload locks), data in this origin's
 * IndexedDB. Other tabs of the same origin hear about item changes so their decrypted caches never go stale.
 */
class PageVaultBackend implements VaultBackend {
  private readonly idle = new IdleTimer(() => void this.lock());
  private readonly channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;

  constructor(
    private readonly service: VaultService,
    private readonly events: VaultEvents,
  ) {
    this.channel?.addEventListener('message', (e: MessageEvent<VaultEvent>) => {
      if (e.data?.type === 'items-changed') {
        service.invalidateCache();
        events.emit({ type: 'items-changed' });
      }
    });
  }

  private changed(): void {
    this.events.emit({ type: 'items-changed' });
    this.channel?.postMessage({ type: 'items-changed' } satisfies VaultEvent);
  }

  private async afterUnlock(): Promise<void> {
    const { settings } = await this.service.status();
    this.idle.configure(settings.autoLockSeconds);
    this.events.emit({ type: 'unlocked' });
  }

  status(): Promise<BackendStatus> {
    return this.service.status();
  }
  async create(args: Parameters<VaultBackend['create']>[0]) {
    await this.service.create(args);
    await this.afterUnlock();
  }
  async unlock(args: Parameters<VaultBackend['unlock']>[0]) {
    await this.service.unlock(args);
    await this.afterUnlock();
  }
  async lock() {
    this.idle.stop();
    await this.service.lock();
    this.events.emit({ type: 'locked' });
  }
  list() {
    return this.service.list();
  }
  recent(args: { limit: number }) {
    return this.service.recent(args);
  }
  search(args: { query: string }) {
    return this.service.search(args);
  }
  get(args: { id: string }) {
    return this.service.get(args);
  }
  async save(args: Parameters<VaultBackend['save']>[0]) {
    const item = await this.service.save(args);
    this.changed();
    return item;
  }
  async remove(args: { id: string }) {
    await this.service.remove(args);
    this.changed();
  }
  rewrap(args: Parameters<VaultBackend['rewrap']>[0]) {
    return this.service.rewrap(args);
  }
  exportBackup(args: Parameters<VaultBackend['exportBackup']>[0]) {
    return this.service.exportBackup(args);
  }
  async importBackup(args: Parameters<VaultBackend['importBackup']>[0]) {
    const result = await this.service.importBackup(args);
    this.changed();
    return result;
  }
  async importItems(args: Parameters<VaultBackend['importItems']>[0]) {
    const result = await this.service.importItems(args);
    this.changed();
    return result;
  }
  async setSettings(args: Parameters<VaultBackend['setSettings']>[0]) {
    await this.service.setSettings(args);
    if (this.service.isUnlocked) this.idle.configure(args.settings.autoLockSeconds);
    this.events.emit({ type: 'settings-changed' });
  }
  setRecovery(args: Parameters<VaultBackend['setRecovery']>[0]) {
    return this.service.setRecovery(args);
  }
  checkRecovery(args: Parameters<VaultBackend['checkRecovery']>[0]) {
    return this.service.checkRecovery(args);
  }
  /** Device pairing: the vault created from a paired key is open at once, like after an unlock. */
  async join(args: Parameters<VaultService['join']>[0]) {
    await this.service.join(args);
    await this.afterUnlock();
  }
  async recover(args: Parameters<VaultBackend['recover']>[0]) {
    await this.service.recover(args);
    await this.afterUnlock();
  }
  recordKdfEstimate(args: { ms: number }) {
    return this.service.recordKdfEstimate(args);
  }
  async touch() {
    if (this.service.isUnlocked) this.idle.touch();
  }
}

/** The web vault's VaultClient: same UI contract as the extension's, with the key held in this page. */
export function createLocalVaultClient(kdf: KdfRunner, db: VaultDb = new VaultDb()): VaultClient {
  return createLocalVault(kdf, db).client;
}

/** The web vault's VaultClient plus its device side (joining an account by pairing, the device list). */
export function createLocalVault(
  kdf: KdfRunner,
  db: VaultDb = new VaultDb(),
  store: SmallStore = globalThis.localStorage,
): { client: VaultClient; devices: PageDeviceApi; sync: SyncApi } {
  const events = new VaultEvents();
  const service = new VaultService(db);
  const backend = new PageVaultBackend(service, events);
  const paired = createPageDeviceApi({
    service,
    join: (args) => backend.join(args as Parameters<VaultService['join']>[0]),
    kdf,
    store,
  });
  // Once joined to an account, the page syncs its vault through that hub (ciphertext only), starting right away.
  const sync = createPageSync({ service, events, joined: () => paired.joined() });
  const devices: PageDeviceApi = {
    ...paired,
    async finishJoin(passphrase, kdfParams) {
      await paired.finishJoin(passphrase, kdfParams);
      void sync.syncNow();
    },
  };
  return { client: new PassphraseVaultClient(backend, kdf, events), devices, sync };
}
