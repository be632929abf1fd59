import type { KdfParams } from '../crypto/kdf-params';
import type { BackupImportReport } from './backup-merge';
import type { ItemDraft, ItemSummary, SecretFields, VaultItem, VaultSettings, VaultState } from './types';

/** Progress of a running key derivation, for a progress bar: the KDF itself reports none. */
export interface KdfProgress {
  elapsedMs: number;
  /** Best estimate of the total, from the last measured run on this device; null when unknown. */
  expectedMs: number | null;
}

export interface VaultStatus {
  state: VaultState;
  /** The KDF that protects the vault (null before a vault exists). */
  kdf: KdfParams | null;
  settings: VaultSettings;
  /** When the current recovery kit was made (epoch ms); null when the vault has none. */
  recoveryKitCreatedAt: number | null;
}

export type VaultEvent =
  { type: 'locked' } | { type: 'unlocked' } | { type: 'items-changed' } | { type: 'settings-changed' };

/**
 * Everything the UI may ask of a vault. Components call only this; they never touch crypto or storage.
 * Two implementations: the extension's (key held by the background) and the web vault's (key in page memory).
 * Every method rejects with a ClawkeepError carrying a `code` and a message fit to show.
 */
export interface VaultClient {
  status(): Promise<VaultStatus>;
  /** First run: derive a key from the passphrase with `kdf`, create the vault, leave it unlocked. */
  create(passphrase: string, kdf: KdfParams, onProgress?: (p: KdfProgress) => void): Promise<void>;
  /** Rejects with code `wrong_passphrase` when the passphrase does not open the vault. */
  unlock(passphrase: string, onProgress?: (p: KdfProgress) => void): Promise<void>;
  lock(): Promise<void>;

  list(): Promise<ItemSummary[]>;
  /** The `limit` most recently changed items, newest first: the first screen while `list` is still decrypting. */
  recent(limit: number): Promise<ItemSummary[]>;
  /** In-memory search over decrypted names and tags; empty query returns everything. */
  search(query: string): Promise<ItemSummary[]>;
  get(id: string): Promise<VaultItem>;
  save(draft: ItemDraft): Promise<VaultItem>;
  remove(id: string): Promise<void>;

  /** Re-wraps the vault key under `next` (and possibly new KDF parameters); items are not re-encrypted. */
  changePassphrase(current: string, next: string, kdf: KdfParams, onProgress?: (p: KdfProgress) => void): Promise<void>;
  /** Runs the KDF once with `kdf` on a throw-away input and returns the milliseconds it took. */
  measureKdf(kdf: KdfParams): Promise<number>;

  /** One versioned, passphrase-protected file holding every item. */
  exportBackup(backupPassphrase: string, onProgress?: (p: KdfProgress) => void): Promise<Uint8Array>;
  /**
   * Merges a backup without replacing newer items (backup-merge.ts) and says what it did per item. All-or-nothing: a
   * wrong passphrase or a damaged file leaves the vault unchanged.
   */
  importBackup(
    file: Uint8Array,
    backupPassphrase: string,
    onProgress?: (p: KdfProgress) => void,
  ): Promise<BackupImportReport>;
  /** Adds the secrets of a previewed import from another tool (lib/import) in one write: all or none. */
  importItems(items: SecretFields[]): Promise<{ added: number }>;

  /**
   * A new recovery kit: 24 words, shown to the person once; any older kit stops working. The words and their key
   * exist only in this page (the background gets the derived key).
   */
  createRecoveryKit(): Promise<string[]>;
  /** Rejects (`recovery_words_invalid` / `recovery_words_wrong`) unless the words open this vault's current kit. */
  checkRecoveryKit(words: string): Promise<void>;
  /** Forgotten passphrase: the kit's words open the vault, which is then protected by `newPassphrase` (left unlocked). */
  recoverWithKit(words: string, newPassphrase: string, onProgress?: (p: KdfProgress) => void): Promise<void>;

  setSettings(settings: VaultSettings): Promise<void>;
  /** The user did something: restart the idle timer. Cheap; safe to call often. */
  touch(): void;
  /** Subscribe to lock / unlock / change events from any context; returns an unsubscribe function. */
  subscribe(listener: (event: VaultEvent) => void): () => void;
}
