import { fromBase64, toBase64, wipe } from '../../bytes';
import { ClawkeepError } from '../../errors';
import type { VaultEvent } from '../../vault/client';
import type { VaultService } from '../../vault/vault-service';
import type { VaultMethod } from './vault-api';
import { ALARMS, KEYHOLDER_SESSION } from '../../storage/persisted-keys';
import { readStored, removeStored, StoredValueError, writeStored } from '../../storage/stored-item';

/**
 * What the keyholder keeps in `storage.session` (memory-only, trusted contexts) to survive worker restarts:
 * KEYHOLDER_SESSION in lib/storage/persisted-keys.ts.
 */

/** The browser surfaces the keyholder needs, injected so tests can drive it with a fake browser and clock. */
export interface KeyholderPorts {
  session: {
    get(key: string): Promise<Record<string, unknown>>;
    set(items: Record<string, unknown>): Promise<void>;
    remove(key: string): Promise<void>;
  };
  alarms: {
    create(name: string, info: { when: number }): Promise<void> | void;
    clear(name: string): Promise<boolean> | void;
  };
  broadcast(event: VaultEvent): void;
  now(): number;
}

/** Methods that are not the user doing something: they neither count as activity nor need a fresh idle check. */
const PASSIVE_METHODS: ReadonlySet<VaultMethod> = new Set(['status', 'recordKdfEstimate']);
const CHANGING_METHODS: ReadonlySet<VaultMethod> = new Set(['save', 'remove', 'importBackup', 'importItems']);

/**
 * Owns the unlocked vault key in the extension background. The key sits in this worker's memory and in
 * `storage.session`, so an MV3 worker restart keeps the vault unlocked while a browser restart locks it.
 * Idle auto-lock is enforced three ways: an alarm (wakes a stopped worker), a timer (precise while alive) and a
 * check before every request (covers a late alarm).
 */
export class Keyholder {
  private readonly ready: Promise<void>;
  private autoLockSeconds: number | null = null;
  private lastActivity = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly service: VaultService,
    private readonly ports: KeyholderPorts,
  ) {
    this.ready = this.restore();
  }

  private async restore(): Promise<void> {
    const status = await this.service.status().catch(() => null);
    this.autoLockSeconds = status?.settings.autoLockSeconds ?? null;
    let stored;
    try {
      stored = await readStored(this.ports.session, KEYHOLDER_SESSION);
    } catch (err) {
      if (!(err instanceof StoredValueError)) throw err;
      // A session record this version cannot read (another version's, or damaged) unlocks nothing: the vault
      // starts locked and the passphrase opens it again. Locking loses no data; it is the safe state.
      await this.lock();
      return;
    }
    if (!stored) return;
    this.lastActivity = stored.lastActivity;
    if (this.idleExpired() || !(await this.service.resume(fromBase64(stored.vaultKey), fromBase64(stored.vaultId)))) {
      await this.lock();
      return;
    }
    this.schedule();
  }

  private idleExpired(): boolean {
    return this.autoLockSeconds !== null && this.ports.now() - this.lastActivity >= this.autoLockSeconds * 1000;
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.autoLockSeconds === null || !this.service.isUnlocked) {
      void this.ports.alarms.clear(ALARMS.autolock);
      return;
    }
    const due = this.lastActivity + this.autoLockSeconds * 1000;
    void this.ports.alarms.create(ALARMS.autolock, { when: due });
    this.timer = setTimeout(() => void this.checkIdle(), Math.max(0, due - this.ports.now()) + 50);
  }

  private async persistSession(): Promise<void> {
    const { vaultKey, vaultId } = this.service.exportSessionKey();
    const record = {
      v: 1 as const,
      vaultKey: toBase64(vaultKey),
      vaultId: toBase64(vaultId),
      lastActivity: this.lastActivity,
    };
    wipe(vaultKey);
    await writeStored(this.ports.session, KEYHOLDER_SESSION, record);
  }

  private async recordActivity(): Promise<void> {
    this.lastActivity = this.ports.now();
    if (!this.service.isUnlocked) return;
    await this.persistSession();
    this.schedule();
  }

  /** Called by the alarm and the timer: locks when the idle time has passed. */
  async checkIdle(): Promise<void> {
    await this.ready;
    if (this.service.isUnlocked && this.idleExpired()) await this.lock();
    else this.schedule();
  }

  /** Wipes the key from memory and session storage, cancels timers and tells every open page. */
  async lock(): Promise<void> {
    const wasUnlocked = this.service.isUnlocked;
    await this.service.lock();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await removeStored(this.ports.session, KEYHOLDER_SESSION);
    void this.ports.alarms.clear(ALARMS.autolock);
    if (wasUnlocked) this.ports.broadcast({ type: 'locked' });
  }

  /** Resolves once the session record was restored (or dropped): then `isUnlocked` is meaningful. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  get isUnlocked(): boolean {
    return this.service.isUnlocked;
  }

  /**
   * For background features that need the unlocked vault (the hub's device signer, a secret to seal): applies the
   * idle check first, refuses when locked, and counts the call as activity only when a person asked for it.
   * @throws ClawkeepError `vault_locked`
   */
  async withUnlocked<T>(fn: (service: VaultService) => Promise<T>, options: { activity: boolean }): Promise<T> {
    await this.ready;
    if (this.service.isUnlocked && this.idleExpired()) await this.lock();
    if (!this.service.isUnlocked) throw new ClawkeepError('vault_locked', 'Unlock the vault first.');
    const value = await fn(this.service);
    if (options.activity) await this.recordActivity();
    return value;
  }

  /** Device pairing (hub service, background only): the vault is created from a paired key and open at once. */
  async join(args: Parameters<VaultService['join']>[0]): Promise<void> {
    await this.ready;
    await this.service.join(args);
    await this.recordActivity();
    this.ports.broadcast({ type: 'unlocked' });
  }

  /** Runs one RPC method against the vault, applying idle checks and activity tracking around it. */
  async handle(method: VaultMethod, args: unknown): Promise<unknown> {
    await this.ready;
    if (this.service.isUnlocked && this.idleExpired()) await this.lock();
    const a = (args ?? {}) as never;
    switch (method) {
      case 'lock':
        await this.lock();
        return null;
      case 'create':
      case 'unlock':
      case 'recover':
        await this.service[method](a);
        await this.recordActivity();
        this.ports.broadcast({ type: 'unlocked' });
        return null;
      case 'setSettings': {
        await this.service.setSettings(a);
        this.autoLockSeconds = (await this.service.status()).settings.autoLockSeconds;
        await this.recordActivity();
        this.ports.broadcast({ type: 'settings-changed' });
        return null;
      }
      case 'touch':
        await this.recordActivity();
        return null;
      default: {
        const value = await (this.service[method] as (x: never) => Promise<unknown>)(a);
        if (!PASSIVE_METHODS.has(method)) await this.recordActivity();
        if (CHANGING_METHODS.has(method)) this.ports.broadcast({ type: 'items-changed' });
        return value ?? null;
      }
    }
  }
}
