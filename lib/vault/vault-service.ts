import { randomBytes, wipe } from '../bytes';
import { loadWasmAead } from '../crypto/aead-wasm';
import type { assertKdfParams } from '../crypto/kdf-params';
import { ClawkeepError, VaultLockedError } from '../errors';
import { openItem, openItemWith, sealItem } from '../format/item-envelope';
import {
  decodeVaultHeader,
  encodeVaultHeader,
  openVaultHeader,
  sealVaultHeader,
  VAULT_ID_LENGTH,
} from '../format/vault-header';
import {
  decodeRecoveryWrap,
  encodeRecoveryWrap,
  KIT_ID_LENGTH,
  openRecoveryWrap,
  sealRecoveryWrap,
} from '../format/recovery-wrap';
import type { BackendStatus, VaultBackend } from './backend';
import { exportItemsToBackup, readItemsFromBackup } from './backup';
import type { ItemRecord, VaultDb } from './db';
import { expiryState } from './expiry';
import { mergeOutcome, summarizeMerge, type BackupImportReport } from './backup-merge';
import {
  decodeFields,
  decodeSummaryFields,
  encodeFields,
  normalizeDraft,
  normalizeSecretFields,
  normalizeSettings,
  type SummaryFields,
} from './item-codec';
import { matchesTerms, queryTerms } from './item-search';
import { SummaryIndex, SupersededError } from './summary-index';
import { backgroundTurn } from './background-turn';
import { IMPORT_MAX_ITEMS } from '../import/candidate';
import { isReservedTag, RESERVED_TAG_PREFIX } from '../storage/vault-tags';
import { guardStorage } from './storage-errors';
import type { SyncStore } from '../sync/engine';
import { vaultSyncStore } from '../sync/vault-store';
import type { ItemDraft, ItemSummary, SecretFields, VaultItem, VaultSettings } from './types';
import {
  decodeDeviceKeyRecord,
  encodeDeviceKeyRecord,
  generateDeviceKey,
  importDeviceKey,
  type DeviceSigner,
} from '../identity/device-key';

import { sealPairedKey, type PairingContext } from '../protocol/device-pairing';

const DEVICE_KEY_ID = 'device';

export const DEFAULT_SETTINGS: VaultSettings = { autoLockSeconds: 15 * 60 };

/** At most this many items in one `recent` answer: a first screen, not a way around `list`. */
export const RECENT_MAX = 200;

/** Reads of the whole list retried when the vault changed under them (sync pull, import) before giving up. */
const LIST_ATTEMPTS = 4;

/** The summary with its expiry state as of `now` (the stored summary keeps the state it was built with). */
function withExpiry(summary: ItemSummary, now: number): ItemSummary {
  if (summary.expiresAt === null) return summary;
  const expiry = expiryState(summary.expiresAt, now);
  return expiry === summary.expiry ? summary : Object.freeze({ ...summary, expiry });
}

interface Unlocked {
  vaultKey: Uint8Array;
  vaultId: Uint8Array;
}

/**
 * The key-level vault: holds the vault key while unlocked, encrypts on write, decrypts on read.
 * Runs wherever the key may live: the extension background, or the web vault page. KEKs passed in are consumed
 * (wiped) once used, because every caller hands over a copy that crossed a message channel or a worker.
 */
export class VaultService implements VaultBackend {
  private unlocked: Unlocked | null = null;
  /**
   * Decrypted summaries (summary-index.ts): one pass after unlock, shared by every caller; memory only, dropped on
   * lock and whenever the stored items change in a way the index cannot follow (sync pull, import).
   */
  private summaries: SummaryIndex | null = null;
  /** The device's signing key, loaded on first use after unlock; dropped on lock. */
  private signer: Promise<DeviceSigner> | null = null;

  constructor(
    private readonly db: VaultDb,
    private readonly now: () => number = Date.now,
  ) {}

  get isUnlocked(): boolean {
    return this.unlocked !== null;
  }

  async status(): Promise<BackendStatus> {
    return guardStorage(async () => {
      const [header, settings, estimate, recovery] = await Promise.all([
        this.db.meta.get('header'),
        this.db.meta.get('settings'),
        this.db.meta.get('kdfEstimateMs'),
        this.db.meta.get('recovery'),
      ]);
      const parsed = header?.key === 'header' ? decodeVaultHeader(header.value) : null;
      const kit = recovery?.key === 'recovery' ? decodeRecoveryWrap(recovery.value) : null;
      return {
        state: !parsed ? 'uninitialized' : this.unlocked ? 'unlocked' : 'locked',
        header: parsed && { kdf: parsed.kdf, salt: parsed.salt },
        settings: settings?.key === 'settings' ? normalizeSettings(settings.value) : DEFAULT_SETTINGS,
        kdfEstimateMs: estimate?.key === 'kdfEstimateMs' ? estimate.value : null,
        recovery: kit && { createdAt: kit.createdAt, salt: kit.salt },
      };
    });
  }

  private async readHeader() {
    const record = await guardStorage(() => this.db.meta.get('header'));
    if (record?.key !== 'header') throw new ClawkeepError('vault_missing', 'There is no vault yet. Create one first.');
    return decodeVaultHeader(record.value);
  }

  async create({
    kdf,
    salt,
    kek,
  }: {
    kdf: Parameters<typeof assertKdfParams>[0];
    salt: Uint8Array;
    kek: Uint8Array;
  }): Promise<void> {
    try {
      const vaultKey = randomBytes(32);
      const vaultId = randomBytes(VAULT_ID_LENGTH);
      const header = encodeVaultHeader(sealVaultHeader({ vaultId, kdf, salt, kek, vaultKey }));
      await guardStorage(() =>
        this.db.transaction('rw', this.db.meta, async () => {
          if (await this.db.meta.get('header')) throw new ClawkeepError('vault_exists', 'A vault already exists here.');
          await this.db.meta.put({ key: 'header', value: header });
        }),
      );
      this.setUnlocked({ vaultKey, vaultId });
    } finally {
      wipe(kek);
    }
  }

  /**
   * Creates this device's local vault from a vault key another device sealed to it (device pairing, issue 8): same
   * vault id and key, so envelopes either device made open on both; its own passphrase (kek) and KDF; and the device
   * key it paired with, stored encrypted under the vault key like one made by deviceSigner(). Consumes (wipes) the
   * vault key copy handed in only on failure: on success it becomes the unlocked key. Always wipes kek and pkcs8.
   */
  async join(args: {
    vaultId: Uint8Array;
    vaultKey: Uint8Array;
    kdf: Parameters<typeof assertKdfParams>[0];
    salt: Uint8Array;
    kek: Uint8Array;
    deviceKey: { publicKey: Uint8Array; pkcs8: Uint8Array };
  }): Promise<void> {
    const { vaultId, vaultKey, kdf, salt, kek, deviceKey } = args;
    let ok = false;
    try {
      if (vaultId.length !== VAULT_ID_LENGTH || vaultKey.length !== 32)
        throw new ClawkeepError('item_invalid', 'The paired vault key is malformed.');
      const header = encodeVaultHeader(sealVaultHeader({ vaultId, kdf, salt, kek, vaultKey }));
      const record = encodeDeviceKeyRecord(deviceKey.publicKey, deviceKey.pkcs8);
      const envelope = sealItem(vaultKey, { vaultId, id: DEVICE_KEY_ID, kind: 'deviceKey' }, record);
      wipe(record);
      await guardStorage(() =>
        this.db.transaction('rw', this.db.meta, async () => {
          if (await this.db.meta.get('header')) throw new ClawkeepError('vault_exists', 'A vault already exists here.');
          await this.db.meta.put({ key: 'header', value: header });
          await this.db.meta.put({ key: 'deviceKey', value: envelope });
        }),
      );
      this.setUnlocked({ vaultKey, vaultId: vaultId.slice() });
      ok = true;
    } finally {
      wipe(kek, deviceKey.pkcs8);
      if (!ok) wipe(vaultKey);
    }
  }

  /**
   * Seals this vault's id and key to a new device's X25519 box key for one pairing (CKPV v1). The raw key never
   * leaves this object: callers across RPC get only the sealed bytes.
   */
  async sealVaultKeyForPairing({
    boxKey,
    context,
  }: {
    boxKey: Uint8Array;
    context: PairingContext;
  }): Promise<Uint8Array> {
    const u = this.requireUnlocked();
    return sealPairedKey(boxKey, { vaultId: u.vaultId, vaultKey: u.vaultKey }, context);
  }

  async unlock({ kek }: { kek: Uint8Array }): Promise<void> {
    try {
      // The list pass that follows an unlock opens every item: libsodium's WebAssembly AEAD does that at a fraction
      // of @noble/ciphers' cost (crypto/aead-wasm.ts). Loaded once per context, here (~20 ms the first time, beside
      // the header read) rather than at construction, which every wake of the extension's service worker runs,
      // mostly with the vault locked. Where it cannot load this resolves false and @noble/ciphers opens the items.
      const [header] = await Promise.all([this.readHeader(), loadWasmAead()]);
      const vaultKey = openVaultHeader(header, kek);
      this.setUnlocked({ vaultKey, vaultId: header.vaultId });
    } finally {
      wipe(kek);
    }
  }

  /** Restores an unlocked state from a key kept in session memory (MV3 worker restart). */
  async resume(vaultKey: Uint8Array, vaultId: Uint8Array): Promise<boolean> {
    const [header] = await Promise.all([this.readHeader().catch(() => null), loadWasmAead()]);
    if (!header || header.vaultId.length !== vaultId.length || header.vaultId.some((b, i) => b !== vaultId[i])) {
      wipe(vaultKey);
      return false;
    }
    this.setUnlocked({ vaultKey, vaultId: header.vaultId });
    return true;
  }

  /** Copies of the unlocked key material, for the background's session write-through. */
  exportSessionKey(): { vaultKey: Uint8Array; vaultId: Uint8Array } {
    const u = this.requireUnlocked();
    return { vaultKey: u.vaultKey.slice(), vaultId: u.vaultId.slice() };
  }

  private setUnlocked(next: Unlocked): void {
    this.lockNow();
    this.unlocked = next;
    void loadWasmAead(); // create and recover too (unlock and resume have awaited it); never rejects
  }

  private lockNow(): void {
    this.dropSummaries();
    if (this.unlocked) wipe(this.unlocked.vaultKey);
    this.unlocked = null;
    this.signer = null;
  }

  async lock(): Promise<void> {
    this.lockNow();
  }

  private requireUnlocked(): Unlocked {
    if (!this.unlocked) throw new VaultLockedError();
    return this.unlocked;
  }

  /** Drops the decrypted summary cache (another context changed the stored items). */
  invalidateCache(): void {
    this.dropSummaries();
  }

  private dropSummaries(): void {
    this.summaries?.cancel();
    this.summaries = null;
  }

  private decryptRecord(record: ItemRecord, u: Unlocked): VaultItem {
    const plaintext = openItem(u.vaultKey, { vaultId: u.vaultId, id: record.id, kind: record.kind }, record.envelope);
    try {
      const fields = decodeFields(record.kind, plaintext);
      const { id, kind, revision, createdAt, updatedAt } = record;
      return { id, kind, revision, createdAt, updatedAt, fields } as VaultItem;
    } finally {
      wipe(plaintext);
    }
  }

  /**
   * A list row's summary. Frozen (with its own tags array): the index shares it with every caller of `list`, so a
   * caller changing it would change what every other caller sees.
   */
  private summary(record: Omit<ItemRecord, 'envelope'>, fields: SummaryFields): ItemSummary {
    const expiresAt = record.kind === 'secret' ? fields.expiresAt : null;
    return Object.freeze({
      id: record.id,
      kind: record.kind,
      name: fields.name,
      tags: Object.freeze(record.kind === 'secret' ? [...fields.tags] : []) as string[],
      revision: record.revision,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      expiresAt,
      expiry: expiryState(expiresAt, this.now()),
    });
  }

  private summarize(item: VaultItem): ItemSummary {
    return this.summary(
      item,
      item.kind === 'secret' ? item.fields : { name: item.fields.name, tags: [], expiresAt: null },
    );
  }

  /**
   * One stored record's summary: its AEAD tag is checked (openItem throws DecryptError otherwise) before anything of
   * it is read, and only the fields a row shows are decoded (item-codec.ts decodeSummaryFields).
   */
  private summarizeRecord(record: ItemRecord, u: Unlocked): ItemSummary {
    // A pass still running when the vault locks stops here instead of trying the wiped key.
    if (this.unlocked !== u) throw new VaultLockedError();
    // The plaintext is decoded where it was opened and wiped right after (aeadOpenWith): no copy per item.
    return openItemWith(u.vaultKey, { vaultId: u.vaultId, id: record.id, kind: record.kind }, record.envelope, (p) =>
      this.summary(record, decodeSummaryFields(record.kind, p)),
    );
  }

  private summaryIndex(): SummaryIndex {
    const u = this.requireUnlocked();
    this.summaries ??= new SummaryIndex({
      page: (after, limit) =>
        guardStorage(() =>
          (after === null ? this.db.items.orderBy(':id') : this.db.items.where(':id').above(after))
            .limit(limit)
            .toArray(),
        ),
      summarize: (record) => this.summarizeRecord(record, u),
    });
    return this.summaries;
  }

  /**
   * Every summary, sorted (item-search.ts). Several callers share one pass; when the vault changed under it (the
   * index was dropped) the read starts again, a few times at most. A record that does not authenticate fails the
   * whole list with `decrypt_failed`: a tampered vault is reported, not shown in part.
   */
  private async sortedSummaries(): Promise<readonly ItemSummary[]> {
    for (let attempt = 1; ; attempt++) {
      const index = this.summaryIndex();
      try {
        return await index.all();
      } catch (err) {
        if (!index.cancelled) {
          if (this.summaries === index) this.summaries = null; // retried by the next call
          throw err;
        }
        if (attempt >= LIST_ATTEMPTS) throw err instanceof SupersededError ? err : new SupersededError();
      }
    }
  }

  async list(): Promise<ItemSummary[]> {
    const all = await this.sortedSummaries();
    const now = this.now();
    return all.map((s) => withExpiry(s, now));
  }

  /**
   * `list` for the background's own lookups (its records found by tag, the secrets a card may release, the agent
   * configs): the same summaries, handed over one background-priority turn later. Right after unlock those lookups
   * and a page's `list` wait on the same pass, and whoever awaited first resumes first: measured at 10,000 items,
   * the lookups ran ~25 ms of their own work before the page's list was answered. Now the page goes first.
   */
  async listInBackground(): Promise<ItemSummary[]> {
    await this.sortedSummaries();
    await backgroundTurn();
    return this.list();
  }

  /**
   * The `limit` most recently changed items (the plaintext updatedAt index), newest first: what a page shows while
   * `list` is still decrypting a large vault. Each is authenticated and decrypted like in `list`.
   */
  async recent({ limit }: { limit: number }): Promise<ItemSummary[]> {
    const u = this.requireUnlocked();
    const count = Math.max(1, Math.min(RECENT_MAX, Math.floor(limit) || 1));
    const records = await guardStorage(() => this.db.items.orderBy('updatedAt').reverse().limit(count).toArray());
    const now = this.now();
    return records.map((r) => withExpiry(this.summaries?.peek(r.id) ?? this.summarizeRecord(r, u), now));
  }

  async search({ query }: { query: string }): Promise<ItemSummary[]> {
    const terms = queryTerms(query);
    const all = await this.list();
    return terms.length === 0 ? all : all.filter((s) => matchesTerms(s, terms));
  }

  async get({ id }: { id: string }): Promise<VaultItem> {
    const u = this.requireUnlocked();
    const record = await guardStorage(() => this.db.items.get(id));
    if (!record) throw new ClawkeepError('item_not_found', 'That item no longer exists.');
    return this.decryptRecord(record, u);
  }

  async save({ draft }: { draft: ItemDraft }): Promise<VaultItem> {
    const u = this.requireUnlocked();
    const clean = normalizeDraft(draft);
    const now = this.now();
    const item = await guardStorage(() =>
      this.db.transaction('rw', this.db.items, async () => {
        const existing = clean.id ? await this.db.items.get(clean.id) : undefined;
        if (clean.id && !existing) throw new ClawkeepError('item_not_found', 'That item no longer exists.');
        if (existing && existing.kind !== clean.kind)
          throw new ClawkeepError('item_invalid', 'An item cannot change its kind.');
        const id = existing?.id ?? crypto.randomUUID();
        const plaintext = encodeFields(clean.fields);
        const record: ItemRecord = {
          id,
          kind: clean.kind,
          revision: (existing?.revision ?? 0) + 1,
          createdAt: existing?.createdAt ?? now,
          updatedAt: now,
          envelope: sealItem(u.vaultKey, { vaultId: u.vaultId, id, kind: clean.kind }, plaintext),
        };
        wipe(plaintext);
        await this.db.items.put(record);
        return { ...record, fields: clean.fields } as VaultItem & { envelope?: Uint8Array };
      }),
    );
    delete item.envelope;
    this.summaries?.set(this.summarize(item));
    return item;
  }

  async remove({ id }: { id: string }): Promise<void> {
    this.requireUnlocked();
    await guardStorage(() => this.db.items.delete(id));
    this.summaries?.remove(id);
  }

  /** Passphrase or KDF change: only the wrapped vault key changes; items stay as they are. */
  async rewrap(args: {
    currentKek: Uint8Array;
    kdf: Parameters<typeof assertKdfParams>[0];
    salt: Uint8Array;
    newKek: Uint8Array;
  }): Promise<void> {
    try {
      const u = this.requireUnlocked();
      const header = await this.readHeader();
      const vaultKey = openVaultHeader(header, args.currentKek);
      const next = encodeVaultHeader(
        sealVaultHeader({ vaultId: header.vaultId, kdf: args.kdf, salt: args.salt, kek: args.newKek, vaultKey }),
      );
      const sameKey = vaultKey.every((b, i) => b === u.vaultKey[i]);
      wipe(vaultKey);
      if (!sameKey)
        throw new ClawkeepError(
          'vault_exists',
          'The stored vault changed; unlock again before changing the passphrase.',
        );
      await guardStorage(() => this.db.meta.put({ key: 'header', value: next }));
    } finally {
      wipe(args.currentKek, args.newKek);
    }
  }

  async exportBackup({
    kdf,
    salt,
    kek,
  }: {
    kdf: Parameters<typeof assertKdfParams>[0];
    salt: Uint8Array;
    kek: Uint8Array;
  }): Promise<Uint8Array> {
    try {
      const u = this.requireUnlocked();
      const records = await guardStorage(() => this.db.items.toArray());
      const items = records.map((r) => this.decryptRecord(r, u));
      return exportItemsToBackup(items, { kdf, salt, kek, exportedAt: this.now() });
    } finally {
      wipe(kek);
    }
  }

  /**
   * Merges a backup into the vault without replacing newer data (backup-merge.ts: per item, by revision then
   * updatedAt). All-or-nothing: the whole file is decrypted and validated first, then one transaction reads what is
   * stored, decides each item and writes the added and replaced ones; any failure writes nothing.
   */
  async importBackup({ file, kek }: { file: Uint8Array; kek: Uint8Array }): Promise<BackupImportReport> {
    try {
      const u = this.requireUnlocked();
      const items = readItemsFromBackup(file, kek);
      const report = await guardStorage(() =>
        this.db.transaction('rw', this.db.items, async () => {
          const stored = await this.db.items.bulkGet(items.map((i) => i.id));
          const outcomes: BackupImportReport['items'] = [];
          const writes: ItemRecord[] = [];
          items.forEach((item, index) => {
            const record = stored[index];
            const local = record ? this.decryptRecord(record, u) : undefined;
            const outcome = mergeOutcome(local, item);
            const shown = outcome === 'kept-newer' || outcome === 'kept-conflict' ? (local ?? item) : item;
            outcomes.push({ id: item.id, name: shown.fields.name, kind: shown.kind, outcome });
            if (outcome !== 'added' && outcome !== 'replaced') return;
            const plaintext = encodeFields(item.fields);
            const envelope = sealItem(u.vaultKey, { vaultId: u.vaultId, id: item.id, kind: item.kind }, plaintext);
            wipe(plaintext);
            const { id, kind, revision, createdAt, updatedAt } = item;
            writes.push({ id, kind, revision, createdAt, updatedAt, envelope });
          });
          if (writes.length) await this.db.items.bulkPut(writes);
          return summarizeMerge(outcomes);
        }),
      );
      this.dropSummaries();
      return report;
    } finally {
      wipe(kek);
    }
  }

  /**
   * Adds new secret items from another tool's export (lib/import), all in one transaction: each is validated like
   * a save, and none may carry a reserved `clawkeep:` tag (those are Clawkeep's own records, vault-tags.ts), so a
   * bad entry writes nothing at all.
   */
  async importItems({ items }: { items: SecretFields[] }): Promise<{ added: number }> {
    const u = this.requireUnlocked();
    if (!Array.isArray(items) || items.length === 0 || items.length > IMPORT_MAX_ITEMS)
      throw new ClawkeepError('item_invalid', `An import adds between 1 and ${IMPORT_MAX_ITEMS} items.`);
    const clean = items.map((raw) => {
      const fields = normalizeSecretFields(raw);
      if (fields.tags.some((t) => isReservedTag(t.toLowerCase())))
        throw new ClawkeepError(
          'item_invalid',
          `Imported items cannot carry a ${RESERVED_TAG_PREFIX} tag (reserved for Clawkeep).`,
        );
      return fields;
    });
    const now = this.now();
    const records: ItemRecord[] = clean.map((fields) => {
      const id = crypto.randomUUID();
      const plaintext = encodeFields(fields);
      const envelope = sealItem(u.vaultKey, { vaultId: u.vaultId, id, kind: 'secret' }, plaintext);
      wipe(plaintext);
      return { id, kind: 'secret', revision: 1, createdAt: now, updatedAt: now, envelope };
    });
    await guardStorage(() => this.db.transaction('rw', this.db.items, () => this.db.items.bulkAdd(records)));
    this.dropSummaries();
    return { added: records.length };
  }

  private async readRecovery() {
    const record = await guardStorage(() => this.db.meta.get('recovery'));
    if (record?.key !== 'recovery') throw new ClawkeepError('recovery_missing', 'This vault has no recovery kit.');
    return decodeRecoveryWrap(record.value);
  }

  async setRecovery({ kek, salt }: { kek: Uint8Array; salt: Uint8Array }): Promise<{ createdAt: number }> {
    try {
      const u = this.requireUnlocked();
      const createdAt = this.now();
      const wrap = sealRecoveryWrap({
        vaultId: u.vaultId,
        kitId: randomBytes(KIT_ID_LENGTH),
        createdAt,
        salt,
        kek,
        vaultKey: u.vaultKey,
      });
      // One record: writing it replaces the previous kit, whose words then open nothing.
      await guardStorage(() => this.db.meta.put({ key: 'recovery', value: encodeRecoveryWrap(wrap) }));
      return { createdAt };
    } finally {
      wipe(kek);
    }
  }

  async checkRecovery({ kek }: { kek: Uint8Array }): Promise<void> {
    try {
      const wrap = await this.readRecovery();
      const vaultKey = openRecoveryWrap(wrap, kek);
      const u = this.unlocked;
      const same = !u || (vaultKey.length === u.vaultKey.length && vaultKey.every((b, i) => b === u.vaultKey[i]));
      wipe(vaultKey);
      if (!same) throw new ClawkeepError('recovery_words_wrong', 'These recovery words belong to another vault.');
    } finally {
      wipe(kek);
    }
  }

  /** The header is replaced in one write after the new wrap is built: a failure leaves the old passphrase working. */
  async recover(args: {
    recoveryKek: Uint8Array;
    kdf: Parameters<typeof assertKdfParams>[0];
    salt: Uint8Array;
    newKek: Uint8Array;
  }): Promise<void> {
    try {
      const [header, wrap] = await Promise.all([this.readHeader(), this.readRecovery()]);
      if (wrap.vaultId.length !== header.vaultId.length || wrap.vaultId.some((b, i) => b !== header.vaultId[i])) {
        throw new ClawkeepError('recovery_words_wrong', 'The stored recovery kit belongs to another vault.');
      }
      const vaultKey = openRecoveryWrap(wrap, args.recoveryKek);
      const next = encodeVaultHeader(
        sealVaultHeader({ vaultId: header.vaultId, kdf: args.kdf, salt: args.salt, kek: args.newKek, vaultKey }),
      );
      await guardStorage(() => this.db.meta.put({ key: 'header', value: next }));
      this.setUnlocked({ vaultKey, vaultId: header.vaultId });
    } finally {
      wipe(args.recoveryKek, args.newKek);
    }
  }

  async setSettings({ settings }: { settings: VaultSettings }): Promise<void> {
    const clean = normalizeSettings(settings);
    await guardStorage(() => this.db.meta.put({ key: 'settings', value: clean }));
  }

  async recordKdfEstimate({ ms }: { ms: number }): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) return;
    await guardStorage(() => this.db.meta.put({ key: 'kdfEstimateMs', value: Math.round(ms) }));
  }

  /**
   * The device's Ed25519 signer, created on first use and stored encrypted under the vault key (envelope kind
   * deviceKey), so it is usable only while the vault is unlocked and never stored in the clear.
   */
  deviceSigner(): Promise<DeviceSigner> {
    const u = this.requireUnlocked();
    this.signer ??= this.loadOrCreateSigner(u).catch((err) => {
      this.signer = null;
      throw err;
    });
    return this.signer;
  }

  private async loadOrCreateSigner(u: Unlocked): Promise<DeviceSigner> {
    const ctx = { vaultId: u.vaultId, id: DEVICE_KEY_ID, kind: 'deviceKey' as const };
    const stored = await guardStorage(() => this.db.meta.get('deviceKey'));
    if (stored?.key === 'deviceKey') {
      const plaintext = openItem(u.vaultKey, ctx, stored.value);
      const { publicKey, pkcs8 } = decodeDeviceKeyRecord(plaintext);
      try {
        return await importDeviceKey(pkcs8, publicKey);
      } finally {
        wipe(plaintext, pkcs8);
      }
    }
    const { signer, pkcs8 } = await generateDeviceKey();
    const plaintext = encodeDeviceKeyRecord(signer.publicKey, pkcs8);
    const envelope = sealItem(u.vaultKey, ctx, plaintext);
    wipe(plaintext, pkcs8);
    await guardStorage(() =>
      this.db.transaction('rw', this.db.meta, async () => {
        // Another context may have created it first; keep that one so the identity never forks.
        if (await this.db.meta.get('deviceKey'))
          throw new ClawkeepError('storage_conflict', 'The device key was created elsewhere; retry.');
        await this.db.meta.put({ key: 'deviceKey', value: envelope });
      }),
    );
    return signer;
  }

  /** Sync's access to the encrypted records and its bookkeeping (sync never decrypts; a pull drops the caches). */
  syncStore(): SyncStore {
    return vaultSyncStore(this.db, () => this.invalidateCache());
  }

  /** Decrypts an envelope of this vault that is not stored (the hub's side of a sync conflict), to show it. */
  openEnvelope(record: Omit<ItemRecord, 'envelope'> & { envelope: Uint8Array }): VaultItem {
    return this.decryptRecord(record, this.requireUnlocked());
  }

  /** Idle tracking belongs to whoever holds the key (background or page); the store itself has nothing to do. */
  async touch(): Promise<void> {}
}
