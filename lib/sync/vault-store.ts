import type { ItemRecord, VaultDb } from '../vault/db';
import type { LocalRecord, SyncState, SyncStore } from './engine';

/**
 * Sync's view of the vault's own IndexedDB: the encrypted item records as they are (sync never decrypts) and the
 * sync state in the meta table. `changed` tells the vault service its decrypted caches are stale.
 */
export function vaultSyncStore(db: VaultDb, changed: () => void): SyncStore {
  const toLocal = (r: ItemRecord): LocalRecord => ({
    id: r.id,
    kind: r.kind,
    revision: r.revision,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    envelope: r.envelope,
  });
  return {
    async records() {
      return (await db.items.toArray()).map(toLocal);
    },
    async apply(put, remove) {
      if (put.length === 0 && remove.length === 0) return;
      await db.transaction('rw', db.items, async () => {
        if (put.length) await db.items.bulkPut(put.map((r) => ({ ...r })));
        if (remove.length) await db.items.bulkDelete(remove);
      });
      changed();
    },
    async setRevision(id, revision) {
      await db.items.update(id, { revision });
      changed();
    },
    async loadState() {
      const r = await db.meta.get('syncState');
      return r?.key === 'syncState' ? (r.value as SyncState) : null;
    },
    async saveState(state) {
      await db.meta.put({ key: 'syncState', value: state });
    },
  };
}
