import Dexie, { type Table } from 'dexie';
import { VAULT_DB } from '../storage/persisted-keys';
import type { ItemKind } from './types';

/** One stored item: only id, kind, revision and timestamps are plaintext; the rest is the CKIE envelope. */
export interface ItemRecord {
  id: string;
  kind: ItemKind;
  revision: number;
  createdAt: number;
  updatedAt: number;
  envelope: Uint8Array;
}

/** Non-secret vault metadata: the header (wrapped key), settings, the last KDF timing. */
export type MetaRecord =
  | { key: 'header'; value: Uint8Array }
  | { key: 'settings'; value: { autoLockSeconds: number | null } }
  | { key: 'kdfEstimateMs'; value: number }
  /** CKIE envelope (kind deviceKey) of the device's Ed25519 key: encrypted under the vault key. */
  | { key: 'deviceKey'; value: Uint8Array }
  /** CKRW recovery wrap: the vault key wrapped under the recovery kit's key (lib/format/recovery-wrap.ts). */
  | { key: 'recovery'; value: Uint8Array }
  /** Vault sync bookkeeping (lib/sync/engine.ts SyncState): hashes, revisions, counters, conflict envelopes; no plaintext. */
  | { key: 'syncState'; value: unknown };

/**
 * The vault's IndexedDB schema. A shipped version is never edited: changes add `this.version(n + 1)` with an
 * `upgrade()` below the existing ones.
 */
export class VaultDb extends Dexie {
  items!: Table<ItemRecord, string>;
  meta!: Table<MetaRecord, string>;

  constructor(name: string = VAULT_DB.name) {
    super(name);
    this.version(1).stores({ items: 'id, kind, updatedAt', meta: 'key' });
  }
}
