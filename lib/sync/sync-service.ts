import type { VaultService } from '../vault/vault-service';
import type { VaultItem } from '../vault/types';
import { countPending, SyncEngine, type RemoteVersion, type SyncRemote } from './engine';
import { errorCode, toErrorInfo } from '../errors';
import { SyncError } from '../protocol/sync-errors';

/** What pages show: the sync line and the conflicts to resolve. Never a value unless the page asks to reveal. */
export interface SyncStatus {
  /** 'off': no hub connection set up (or locked); 'idle': synced; 'offline' / 'error': the last attempt failed. */
  state: 'off' | 'syncing' | 'idle' | 'offline' | 'error';
  lastSyncedAt: number | null;
  /** Local changes not on the hub yet. */
  pending: number;
  conflicts: ConflictView[];
  /** The last failure in words (rollback, fork, offline…), or null. */
  error: { code: string; message: string } | null;
}

/** What pages may ask about sync (the extension's via the background, the web vault's in the page). */
export interface SyncApi {
  status(): Promise<SyncStatus>;
  syncNow(): Promise<SyncStatus>;
  /** Keeps this device's version ("mine") or the hub's ("theirs") of a conflicting item. */
  resolve(id: string, keep: 'mine' | 'theirs'): Promise<SyncStatus>;
  subscribe(listener: () => void): () => void;
}

/** One conflict: this device's version and the hub's, decrypted for the person to compare. */
export interface ConflictView {
  id: string;
  mine: VaultItem | null;
  theirs: VaultItem | null;
}

/** Where to sync to: set up once this device belongs to an account on a hub. */
export interface SyncConnection {
  hub: string;
  accountId: string;
  remote: SyncRemote;
  device: { publicKey: Uint8Array; sign(message: Uint8Array): Promise<Uint8Array> };
  trustedDeviceKeys(): Promise<Uint8Array[]>;
  /** Keys of devices the hub lists as removed (remembered by the engine; their later heads are refused). */
  removedDeviceKeys?(): Promise<string[]>;
}

export interface SyncServiceDeps {
  vault: {
    readonly isUnlocked: boolean;
    withUnlocked<T>(fn: (service: VaultService) => Promise<T>, options: { activity: boolean }): Promise<T>;
  };
  /** The hub connection for the unlocked vault, or null when this device is not part of an account yet. */
  connection(service: VaultService): Promise<SyncConnection | null>;
  /** Status changed: pages re-read it. */
  changed(): void;
  /** A pull changed local items: pages and caches refresh. */
  itemsChanged(): void;
  now(): number;
}

const DEBOUNCE_MS = 1_000;

/**
 * Runs the sync engine for the unlocked vault (extension background or web vault page): after local edits
 * (debounced), on unlock, on a timer and on demand. Keeps the status pages show. A failed sync changes nothing
 * local; its reason stays visible until the next success.
 */
export class SyncService {
  private current: SyncStatus = { state: 'off', lastSyncedAt: null, pending: 0, conflicts: [], error: null };
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** A run queued behind the one under way (or a choice) and not started yet: calls meanwhile share it. */
  private queued: Promise<SyncStatus> | null = null;
  /**
   * The end of the last sync run or conflict choice: each starts after the one before it ended. A run reads the
   * sync state at its start and saves what it computed at its end, so a choice saved meanwhile was overwritten, and
   * the resolved conflict came back (seen in test/e2e/vault-sync-devices.spec.ts under load: "Keep" answered while
   * the sync started by reconnecting was still pulling).
   */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: SyncServiceDeps) {}

  status(): SyncStatus {
    return this.deps.vault.isUnlocked ? this.current : { ...this.current, state: 'off', conflicts: [] };
  }

  /** A local edit: sync soon (several edits in a row make one sync). */
  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.syncNow();
    }, DEBOUNCE_MS);
  }

  /** Lock: forget the decrypted conflict views. */
  reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.current = { ...this.current, state: 'off', conflicts: [] };
    this.deps.changed();
  }

  /**
   * A sync run that starts after this call: a run already under way may have read its inputs before it (whether this
   * device belongs to an account yet, the conflicts), so it is not reused; calls made before the next run starts
   * share that run. Seen in test/e2e/vault-sync-devices.spec.ts: the web vault's join asked for a sync while the run
   * started by its unlock was still finding no account, shared that run's "off", and showed no sync panel for a minute.
   */
  syncNow(): Promise<SyncStatus> {
    if (this.queued) return this.queued;
    const run = this.inTurn(() => {
      this.queued = null;
      return this.run();
    });
    this.queued = run;
    return run;
  }

  /** Runs `fn` once every run and choice started before it has ended (see `tail`). */
  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => {});
    return result;
  }

  private engine(service: VaultService, c: SyncConnection): SyncEngine {
    return new SyncEngine({ ...c, store: service.syncStore(), now: this.deps.now });
  }

  private async run(): Promise<SyncStatus> {
    if (!this.deps.vault.isUnlocked) return this.status();
    try {
      await this.deps.vault.withUnlocked(
        async (service) => {
          let c: SyncConnection | null;
          try {
            c = await this.deps.connection(service);
          } catch (err) {
            const offline = err instanceof TypeError || errorCode(err) === 'hub_unreachable';
            // Ours keep their code and words; anything else says only that the hub was not reached.
            const refused = toErrorInfo(err, { code: 'sync_refused', message: 'The hub could not be reached.' });
            this.current = {
              ...this.current,
              pending: await countPending(service.syncStore()).catch(() => this.current.pending),
              state: offline ? 'offline' : 'error',
              error: offline
                ? {
                    code: 'sync_offline',
                    message: 'The hub cannot be reached; changes stay on this device until it can.',
                  }
                : refused,
            };
            return;
          }
          if (!c) {
            this.current = { state: 'off', lastSyncedAt: null, pending: 0, conflicts: [], error: null };
            return;
          }
          this.current = { ...this.current, state: 'syncing' };
          this.deps.changed();
          const engine = this.engine(service, c);
          let failure: SyncError | null = null;
          let pulled = 0;
          try {
            pulled = (await engine.sync()).pulled;
          } catch (err) {
            failure =
              err instanceof SyncError ? err : new SyncError('sync_refused', 'The sync failed.', { cause: err });
          }
          const state = await engine.state();
          this.current = {
            state: failure ? (failure.code === 'sync_offline' ? 'offline' : 'error') : 'idle',
            lastSyncedAt: state.lastSyncedAt,
            pending: await engine.pending(),
            conflicts: await this.conflictViews(service, state.conflicts),
            error: failure ? { code: failure.code, message: failure.message } : null,
          };
          if (pulled > 0) this.deps.itemsChanged();
        },
        { activity: false },
      );
    } catch {
      // Locked meanwhile: nothing to report.
    }
    this.deps.changed();
    return this.status();
  }

  /** Both sides of each conflict, decrypted (null: deleted on that side, or not readable). */
  private async conflictViews(
    service: VaultService,
    conflicts: Record<string, RemoteVersion>,
  ): Promise<ConflictView[]> {
    const views: ConflictView[] = [];
    for (const [id, theirs] of Object.entries(conflicts)) {
      const mine = await service.get({ id }).catch(() => null);
      views.push({
        id,
        mine,
        theirs: theirs.envelope ? this.open(service, id, theirs.kind, theirs.revision, theirs.envelope) : null,
      });
    }
    return views;
  }

  private open(
    service: VaultService,
    id: string,
    kind: 'secret' | 'agentConfig',
    revision: number,
    envelope: Uint8Array,
  ): VaultItem | null {
    try {
      return service.openEnvelope({ id, kind, revision, createdAt: 0, updatedAt: 0, envelope });
    } catch {
      return null;
    }
  }

  /** The person picked a side; the next sync pushes "mine" or has already applied "theirs". */
  async resolve(id: string, keep: 'mine' | 'theirs'): Promise<SyncStatus> {
    await this.inTurn(() =>
      this.deps.vault.withUnlocked(
        async (service) => {
          const c = await this.deps.connection(service);
          if (!c) throw new SyncError('sync_refused', 'This device does not sync with a hub.');
          await this.engine(service, c).resolve(id, keep);
        },
        { activity: true },
      ),
    );
    this.deps.itemsChanged();
    // Any run still pending now was queued behind the choice, so it reads the state the choice saved.
    return this.syncNow();
  }
}
