import { randomBytes, utf8Encode, wipe } from '../bytes';
import { SALT_LENGTH, type KdfParams } from '../crypto/kdf-params';
import type { KdfRunner } from '../crypto/kdf-runner';
import { ClawkeepError } from '../errors';
import { decodeBackupFile } from '../format/backup-file';
import { generateRecoveryKit, recoveryEntropy, recoveryKek } from './recovery-kit';
import type { VaultBackend } from './backend';
import type { KdfProgress, VaultClient, VaultEvent, VaultStatus } from './client';
import { FIRST_SCREEN_ITEMS } from './item-search';
import type { ItemDraft, ItemSummary, SecretFields, VaultSettings } from './types';

const TOUCH_THROTTLE_MS = 5_000;
const PROGRESS_TICK_MS = 100;

/** NFKC so the same passphrase typed on two keyboards or OSes derives the same key. */
function passphraseBytes(passphrase: string): Uint8Array {
  return utf8Encode(passphrase.normalize('NFKC'));
}

function sameKdf(a: KdfParams | null | undefined, b: KdfParams): boolean {
  return !!a && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The passphrase-level vault API shared by the extension and the web vault: derives keys with the injected KDF
 * runner (a Web Worker in browsers) and hands only derived keys to the backend.
 */
export class PassphraseVaultClient implements VaultClient {
  private lastTouch = 0;
  /**
   * The first screen of items, asked for the moment an unlock succeeds: the page then shows it without first
   * waiting for its status round trip and its render (issue 17: first screen within 100 ms of the key). Used once,
   * by the next `recent` of the same size; dropped on lock or when items change.
   */
  private firstScreen: { limit: number; answer: Promise<ItemSummary[]> } | null = null;

  constructor(
    private readonly backend: VaultBackend,
    private readonly kdf: KdfRunner,
    private readonly events: { subscribe(listener: (event: VaultEvent) => void): () => void },
  ) {
    events.subscribe((event) => {
      if (event.type === 'locked' || event.type === 'items-changed') this.firstScreen = null;
    });
  }

  async status(): Promise<VaultStatus> {
    const s = await this.backend.status();
    return {
      state: s.state,
      kdf: s.header?.kdf ?? null,
      settings: s.settings,
      recoveryKitCreatedAt: s.recovery?.createdAt ?? null,
    };
  }

  private async header() {
    const s = await this.backend.status();
    if (!s.header) throw new ClawkeepError('vault_missing', 'There is no vault yet. Create one first.');
    return { ...s.header, estimate: s.kdfEstimateMs };
  }

  /** Runs the KDF in the runner, reporting elapsed time so the UI can draw progress. */
  private async derive(
    passphrase: string,
    salt: Uint8Array,
    params: KdfParams,
    expectedMs: number | null,
    onProgress?: (p: KdfProgress) => void,
  ): Promise<{ kek: Uint8Array; ms: number }> {
    const started = performance.now();
    const tick =
      onProgress &&
      setInterval(() => onProgress({ elapsedMs: performance.now() - started, expectedMs }), PROGRESS_TICK_MS);
    onProgress?.({ elapsedMs: 0, expectedMs });
    const bytes = passphraseBytes(passphrase);
    try {
      const kek = await this.kdf.derive(bytes, salt, params);
      return { kek, ms: performance.now() - started };
    } finally {
      wipe(bytes);
      if (tick) clearInterval(tick);
    }
  }

  async create(passphrase: string, kdf: KdfParams, onProgress?: (p: KdfProgress) => void): Promise<void> {
    if (passphrase.length === 0) throw new ClawkeepError('item_invalid', 'Choose a passphrase.');
    const salt = randomBytes(SALT_LENGTH);
    const { kek, ms } = await this.derive(passphrase, salt, kdf, null, onProgress);
    await this.backend.create({ kdf, salt, kek });
    await this.backend.recordKdfEstimate({ ms });
  }

  async unlock(passphrase: string, onProgress?: (p: KdfProgress) => void): Promise<void> {
    const header = await this.header();
    const { kek, ms } = await this.derive(passphrase, header.salt, header.kdf, header.estimate, onProgress);
    await this.backend.unlock({ kek });
    const answer = this.backend.recent({ limit: FIRST_SCREEN_ITEMS });
    answer.catch(() => {}); // whoever takes it sees the failure; nobody may
    this.firstScreen = { limit: FIRST_SCREEN_ITEMS, answer };
    // Not awaited: the vault is open now, and this only tunes the next unlock's progress bar. Awaiting it put one more
    // background round trip between the derived key and the first screen of items (issue 17).
    this.backend.recordKdfEstimate({ ms }).catch(() => {});
  }

  lock(): Promise<void> {
    return this.backend.lock();
  }

  list() {
    return this.backend.list();
  }

  recent(limit: number): Promise<ItemSummary[]> {
    const early = this.firstScreen;
    this.firstScreen = null;
    return early?.limit === limit ? early.answer : this.backend.recent({ limit });
  }

  search(query: string) {
    return this.backend.search({ query });
  }

  get(id: string) {
    return this.backend.get({ id });
  }

  save(draft: ItemDraft) {
    return this.backend.save({ draft });
  }

  remove(id: string) {
    return this.backend.remove({ id });
  }

  async changePassphrase(
    current: string,
    next: string,
    kdf: KdfParams,
    onProgress?: (p: KdfProgress) => void,
  ): Promise<void> {
    if (next.length === 0) throw new ClawkeepError('item_invalid', 'Choose a new passphrase.');
    const header = await this.header();
    const { kek: currentKek } = await this.derive(current, header.salt, header.kdf, header.estimate, onProgress);
    const salt = randomBytes(SALT_LENGTH);
    let newKek: Uint8Array;
    try {
      newKek = (await this.derive(next, salt, kdf, sameKdf(header.kdf, kdf) ? header.estimate : null, onProgress)).kek;
    } catch (err) {
      wipe(currentKek);
      throw err;
    }
    await this.backend.rewrap({ currentKek, kdf, salt, newKek });
  }

  async measureKdf(kdf: KdfParams): Promise<number> {
    const { kek, ms } = await this.derive('clawkeep-measure', randomBytes(SALT_LENGTH), kdf, null);
    wipe(kek);
    return Math.round(ms);
  }

  async exportBackup(backupPassphrase: string, onProgress?: (p: KdfProgress) => void): Promise<Uint8Array> {
    if (backupPassphrase.length === 0) throw new ClawkeepError('item_invalid', 'Choose a backup passphrase.');
    const header = await this.header();
    const salt = randomBytes(SALT_LENGTH);
    const { kek } = await this.derive(backupPassphrase, salt, header.kdf, header.estimate, onProgress);
    return this.backend.exportBackup({ kdf: header.kdf, salt, kek });
  }

  async importBackup(file: Uint8Array, backupPassphrase: string, onProgress?: (p: KdfProgress) => void) {
    // Parse first: a damaged or hostile file is refused before any key derivation runs.
    const parsed = decodeBackupFile(file);
    const { kek } = await this.derive(backupPassphrase, parsed.salt, parsed.kdf, null, onProgress);
    return this.backend.importBackup({ file, kek });
  }

  importItems(items: SecretFields[]) {
    return this.backend.importItems({ items });
  }

  async createRecoveryKit(): Promise<string[]> {
    const { words, entropy, salt } = generateRecoveryKit();
    const kek = recoveryKek(entropy, salt);
    wipe(entropy);
    await this.backend.setRecovery({ kek, salt });
    return words;
  }

  /** The kit's key for `words`, checked against the word list and checksum first. */
  private async kitKey(words: string): Promise<Uint8Array> {
    const s = await this.backend.status();
    if (!s.recovery) throw new ClawkeepError('recovery_missing', 'This vault has no recovery kit.');
    const entropy = recoveryEntropy(words);
    try {
      return recoveryKek(entropy, s.recovery.salt);
    } finally {
      wipe(entropy);
    }
  }

  async checkRecoveryKit(words: string): Promise<void> {
    await this.backend.checkRecovery({ kek: await this.kitKey(words) });
  }

  async recoverWithKit(words: string, newPassphrase: string, onProgress?: (p: KdfProgress) => void): Promise<void> {
    if (newPassphrase.length === 0) throw new ClawkeepError('item_invalid', 'Choose a new passphrase.');
    const recoveryKek = await this.kitKey(words);
    const header = await this.header();
    const salt = randomBytes(SALT_LENGTH);
    let newKek: Uint8Array;
    try {
      newKek = (await this.derive(newPassphrase, salt, header.kdf, header.estimate, onProgress)).kek;
    } catch (err) {
      wipe(recoveryKek);
      throw err;
    }
    await this.backend.recover({ recoveryKek, kdf: header.kdf, salt, newKek });
  }

  setSettings(settings: VaultSettings) {
    return this.backend.setSettings({ settings });
  }

  touch(): void {
    const now = Date.now();
    if (now - this.lastTouch < TOUCH_THROTTLE_MS) return;
    this.lastTouch = now;
    this.backend.touch().catch(() => {
      // A missed activity ping only means the vault may lock a little earlier.
    });
  }

  subscribe(listener: (event: VaultEvent) => void): () => void {
    return this.events.subscribe(listener);
  }
}
