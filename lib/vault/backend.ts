import type { KdfParams } from '../crypto/kdf-params';
import type { BackupImportReport } from './backup-merge';
import type { ItemDraft, ItemSummary, SecretFields, VaultItem, VaultSettings, VaultState } from './types';

/** The header facts a client needs before it can derive a key: never secret. */
export interface VaultHeaderInfo {
  kdf: KdfParams;
  salt: Uint8Array;
}

export interface BackendStatus {
  state: VaultState;
  header: VaultHeaderInfo | null;
  settings: VaultSettings;
  /** Last measured KDF time on this device in ms (plaintext, not secret); null if never measured. */
  kdfEstimateMs: number | null;
  /** The recovery kit's public facts (when it was made, its salt); null when the vault has none. */
  recovery: { createdAt: number; salt: Uint8Array } | null;
}

/**
 * The key-level vault API: it takes derived keys (KEKs), never passphrases. The passphrase → KEK step runs
 * in a page's Web Worker; this side runs in the extension background or, for the web vault, in the page.
 * Arguments and results are structured-clone / JSON friendly once bytes are base64-encoded by the transport.
 */
export interface VaultBackend {
  status(): Promise<BackendStatus>;
  create(args: { kdf: KdfParams; salt: Uint8Array; kek: Uint8Array }): Promise<void>;
  unlock(args: { kek: Uint8Array }): Promise<void>;
  lock(): Promise<void>;
  list(): Promise<ItemSummary[]>;
  /**
   * The `limit` (at most 200) most recently changed items, newest first: a first screen to show while `list`
   * decrypts a large vault.
   */
  recent(args: { limit: number }): Promise<ItemSummary[]>;
  search(args: { query: string }): Promise<ItemSummary[]>;
  get(args: { id: string }): Promise<VaultItem>;
  save(args: { draft: ItemDraft }): Promise<VaultItem>;
  remove(args: { id: string }): Promise<void>;
  rewrap(args: { currentKek: Uint8Array; kdf: KdfParams; salt: Uint8Array; newKek: Uint8Array }): Promise<void>;
  exportBackup(args: { kdf: KdfParams; salt: Uint8Array; kek: Uint8Array }): Promise<Uint8Array>;
  /** Merges a backup: newer items here are kept (backup-merge.ts); all or nothing. */
  importBackup(args: { file: Uint8Array; kek: Uint8Array }): Promise<BackupImportReport>;
  /** Adds secrets from another tool's export (lib/import) in one write; none may carry a `clawkeep:` tag. */
  importItems(args: { items: SecretFields[] }): Promise<{ added: number }>;
  /** Wraps the unlocked vault key under a new recovery kit's key; any older kit stops working. */
  setRecovery(args: { kek: Uint8Array; salt: Uint8Array }): Promise<{ createdAt: number }>;
  /** Checks that a recovery key opens the stored kit (and, while unlocked, yields this vault's key). */
  checkRecovery(args: { kek: Uint8Array }): Promise<void>;
  /** Forgotten passphrase: the recovery key opens the vault key, which is wrapped under a new passphrase's key. */
  recover(args: { recoveryKek: Uint8Array; kdf: KdfParams; salt: Uint8Array; newKek: Uint8Array }): Promise<void>;
  setSettings(args: { settings: VaultSettings }): Promise<void>;
  recordKdfEstimate(args: { ms: number }): Promise<void>;
  touch(): Promise<void>;
}
