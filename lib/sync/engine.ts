import { fromBase64Url, toBase64Url } from '../protocol/base64url';
import { encodePublicKey } from '../protocol/keys';
import { errorCode } from '../errors';
import { SyncError } from '../protocol/sync-errors';
import { signVaultHead, verifyVaultHead, type VaultHead } from '../protocol/vault-head';
import { envelopeHash, itemsHash, type SyncedEntry } from '../protocol/vault-items-hash';
import type { VaultChange, VaultPull, VaultPush } from '../protocol/vault-sync-wire';

/** A stored vault item as sync sees it: plaintext metadata and the CKIE envelope (never decrypted here). */
export interface LocalRecord {
  id: string;
  kind: 'secret' | 'agentConfig';
  revision: number;
  createdAt: number;
  updatedAt: number;
  envelope: Uint8Array;
}

/** The other side of a conflict: the hub's version, kept until the person picks one. */
export interface RemoteVersion {
  kind: 'secret' | 'agentConfig';
  revision: number;
  /** null: the item was deleted on the other device. */
  envelope: Uint8Array | null;
}

/** What this device remembers about the hub between syncs (stored next to the vault; no plaintext). */
export interface SyncState {
  v: 1;
  hub: string;
  accountId: string;
  /** The hub's change counter this device has pulled up to. */
  counter: number;
  /** The newest head this device saw (pulled or pushed): the rollback / fork reference. */
  seenHead: { counter: number; items_hash: string } | null;
  /** The hub's item set as of `counter`. */
  synced: Record<string, SyncedEntry>;
  conflicts: Record<string, RemoteVersion>;
  lastSyncedAt: number | null;
  /**
   * Devices this device learned were removed from the account (base64url key → the newest head counter it had seen
   * then). Kept for good: a hub that later lists the device as active again does not make it trusted again. A head
   * such a device signs with a higher counter is refused (it was signed after its removal as far as we know).
   */
  removed?: Record<string, number>;
}

export interface SyncStore {
  records(): Promise<LocalRecord[]>;
  /** Writes remote versions and removes deleted items in one transaction. */
  apply(put: LocalRecord[], remove: string[]): Promise<void>;
  /** Raises an item's revision (metadata only; the envelope does not bind it). */
  setRevision(id: string, revision: number): Promise<void>;
  loadState(): Promise<SyncState | null>;
  saveState(state: SyncState): Promise<void>;
}

export interface SyncRemote {
  pull(since: number): Promise<VaultPull>;
  push(body: VaultPush): Promise<{ counter: number }>;
}

export interface SyncPorts {
  hub: string;
  accountId: string;
  store: SyncStore;
  remote: SyncRemote;
  /** This device's public key and signer (the head is signed with it). */
  device: { publicKey: Uint8Array; sign(message: Uint8Array): Promise<Uint8Array> };
  /** The account's device keys this device trusts to sign heads. */
  trustedDeviceKeys(): Promise<Uint8Array[]>;
  /** Keys (base64url) of devices the hub lists as removed from the account; remembered in the sync state. */
  removedDeviceKeys?(): Promise<string[]>;
  now(): number;
}

export interface SyncResult {
  pulled: number;
  pushed: number;
  conflicts: string[];
  counter: number;
}

function localEntry(r: LocalRecord): SyncedEntry {
  return { kind: r.kind, revision: r.revision, envelopeSha256: envelopeHash(r.envelope) };
}

/** A local item differs from what the hub had at the last sync (edited, created or deleted here). */
function isDirty(local: LocalRecord | undefined, base: SyncedEntry | undefined): boolean {
  if (!local) return !!base && base.envelopeSha256 !== null;
  if (!base || base.envelopeSha256 === null) return true;
  return base.envelopeSha256 !== envelopeHash(local.envelope);
}

/** Local changes not on the hub yet, against `state` (default: the stored one; works without a hub connection). */
export async function countPending(store: SyncStore, state?: SyncState): Promise<number> {
  const s = state ?? (await store.loadState());
  const records = new Map((await store.records()).map((r) => [r.id, r]));
  const synced = s?.synced ?? {};
  const ids = new Set([...records.keys(), ...Object.keys(synced)]);
  let n = 0;
  for (const id of ids) if (!s?.conflicts[id] && isDirty(records.get(id), synced[id])) n++;
  return n;
}

/**
 * One device's vault sync: pull the hub's changes since the last counter (refusing a head older than, or forked
 * from, one already seen, and one that does not describe the items), apply them where nothing changed locally,
 * keep both versions where both changed (a conflict the person resolves), then push local edits and deletions with
 * a new signed head. Nothing local is lost on any failure: local edits simply stay queued until the next sync.
 */
export class SyncEngine {
  private running: Promise<SyncResult> | null = null;

  constructor(private readonly ports: SyncPorts) {}

  private fresh(): SyncState {
    return {
      v: 1,
      hub: this.ports.hub,
      accountId: this.ports.accountId,
      counter: 0,
      seenHead: null,
      synced: {},
      conflicts: {},
      lastSyncedAt: null,
    };
  }

  async state(): Promise<SyncState> {
    const s = await this.ports.store.loadState();
    return s && s.hub === this.ports.hub && s.accountId === this.ports.accountId ? s : this.fresh();
  }

  /** Local changes not on the hub yet (edits, new items, deletions), conflicts excluded. */
  async pending(): Promise<number> {
    return countPending(this.ports.store, await this.state());
  }

  /** One sync at a time: a second call while one runs gets the running one's result. */
  sync(): Promise<SyncResult> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SyncError) throw err;
      // The extension may no longer reach the hub's origin (its host permission was removed): as offline, local
      // edits stay queued, but with the hub client's words, which say what to do (lib/ext/hub/host-access.ts).
      if (errorCode(err) === 'hub_permission_missing')
        throw new SyncError('sync_offline', (err as Error).message, { cause: err });
      if (errorCode(err) === 'hub_unreachable')
        throw new SyncError('sync_offline', 'The hub cannot be reached; changes stay on this device until it can.', {
          cause: err,
        });
      if (err instanceof TypeError)
        throw new SyncError('sync_offline', 'The hub cannot be reached; changes stay on this device until it can.', {
          cause: err,
        });
      throw err;
    }
  }

  private async run(): Promise<SyncResult> {
    const result: SyncResult = { pulled: 0, pushed: 0, conflicts: [], counter: 0 };
    for (let attempt = 0; attempt < 4; attempt++) {
      const state = await this.pull(result);
      const pushed = await this.push(state);
      if (pushed === 'stale') continue;
      result.pushed += pushed;
      const final = await this.state();
      result.conflicts = Object.keys(final.conflicts).sort();
      result.counter = final.counter;
      return result;
    }
    throw new SyncError('sync_refused', 'The vault kept changing on the hub while syncing; try again.');
  }

  /**
   * Adds the devices the hub now lists as removed to the state's memory (saved at once), each with the newest head
   * counter this device had seen: its heads up to there are history, later ones are refused.
   */
  private async rememberRemoved(state: SyncState): Promise<SyncState> {
    const listed = (await this.ports.removedDeviceKeys?.()) ?? [];
    const fresh = listed.filter((k) => !(state.removed && k in state.removed));
    if (fresh.length === 0) return state;
    const limit = Math.max(state.seenHead?.counter ?? 0, state.counter);
    const next = { ...state, removed: { ...state.removed, ...Object.fromEntries(fresh.map((k) => [k, limit])) } };
    await this.ports.store.saveState(next);
    return next;
  }

  private async pull(result: SyncResult): Promise<SyncState> {
    const state = await this.rememberRemoved(await this.state());
    const page = await this.call(() => this.ports.remote.pull(state.counter));
    let head: VaultHead | null = null;
    if (page.head) {
      head = verifyVaultHead(page.head, {
        hub: this.ports.hub,
        accountId: this.ports.accountId,
        deviceKeys: await this.ports.trustedDeviceKeys(),
      });
      if (head.counter !== page.counter)
        throw new SyncError('sync_head_invalid', 'The hub sent a head for another counter.');
      const removedAt = state.removed?.[head.device_key];
      if (removedAt !== undefined && head.counter > removedAt) {
        throw new SyncError(
          'sync_head_invalid',
          'The vault head is signed by a device that was removed from the account, after its removal. Nothing was synced.',
        );
      }
    } else if (page.counter !== 0) {
      throw new SyncError('sync_head_invalid', 'The hub sent changes without a signed head.');
    }
    const seen = state.seenHead;
    if (seen && page.counter < seen.counter) {
      throw new SyncError(
        'sync_rollback',
        `The hub serves an older vault (counter ${page.counter}) than this device already saw (counter ${seen.counter}). Nothing was synced. The hub may have been restored from an old backup or tampered with.`,
      );
    }
    if (seen && head && head.counter === seen.counter && head.items_hash !== seen.items_hash) {
      throw new SyncError(
        'sync_fork',
        `The hub serves a different vault under counter ${seen.counter} than this device saw. Nothing was synced.`,
      );
    }
    if (page.counter < state.counter) {
      throw new SyncError(
        'sync_rollback',
        `The hub is at counter ${page.counter}, behind this device's ${state.counter}. Nothing was synced.`,
      );
    }

    const records = new Map((await this.ports.store.records()).map((r) => [r.id, r]));
    const synced = { ...state.synced };
    const conflicts = { ...state.conflicts };
    const put: LocalRecord[] = [];
    const remove: string[] = [];
    const now = this.ports.now();
    for (const item of page.items) {
      if (item.seq <= state.counter) continue;
      let envelope: Uint8Array | null = null;
      try {
        envelope = item.envelope === null ? null : fromBase64Url(item.envelope);
      } catch (err) {
        throw new SyncError('sync_head_invalid', 'The hub sent an item that is not base64url.', { cause: err });
      }
      const remote: SyncedEntry = {
        kind: item.kind,
        revision: item.revision,
        envelopeSha256: envelope ? envelopeHash(envelope) : null,
      };
      const local = records.get(item.id);
      const base = synced[item.id];
      synced[item.id] = remote;
      if (!isDirty(local, base)) {
        if (envelope)
          put.push({
            id: item.id,
            kind: item.kind,
            revision: item.revision,
            createdAt: local?.createdAt ?? now,
            updatedAt: now,
            envelope,
          });
        else if (local) remove.push(item.id);
        delete conflicts[item.id];
      } else if ((local ? envelopeHash(local.envelope) : null) === remote.envelopeSha256) {
        // Both sides made the same change: adopt the hub's revision.
        if (local && local.revision !== item.revision) put.push({ ...local, revision: item.revision });
        delete conflicts[item.id];
      } else {
        conflicts[item.id] = { kind: item.kind, revision: item.revision, envelope };
      }
    }
    // The head signs the hub's whole item set: what we now believe the hub holds must hash to it.
    if (head && itemsHash(synced) !== head.items_hash) {
      throw new SyncError(
        'sync_head_invalid',
        "The hub's items do not match its signed vault head. Nothing was synced.",
      );
    }
    await this.ports.store.apply(put, remove);
    result.pulled += put.length + remove.length;
    const next: SyncState = {
      ...state,
      counter: page.counter,
      synced,
      conflicts,
      seenHead: head ? { counter: head.counter, items_hash: head.items_hash } : seen,
      lastSyncedAt: now,
    };
    await this.ports.store.saveState(next);
    return next;
  }

  /** Returns how many changes were pushed, or 'stale' when the hub moved on meanwhile (pull again). */
  private async push(state: SyncState): Promise<number | 'stale'> {
    const records = await this.ports.store.records();
    const byId = new Map(records.map((r) => [r.id, r]));
    const changes: VaultChange[] = [];
    const after = { ...state.synced };
    for (const r of records) {
      const base = state.synced[r.id];
      if (state.conflicts[r.id] || !isDirty(r, base)) continue;
      const baseRevision = base?.revision ?? 0;
      let revision = r.revision;
      if (revision <= baseRevision) {
        revision = baseRevision + 1;
        await this.ports.store.setRevision(r.id, revision);
      }
      changes.push({
        id: r.id,
        kind: r.kind,
        revision,
        envelope: toBase64Url(r.envelope),
        base_revision: baseRevision,
      });
      after[r.id] = { ...localEntry(r), revision };
    }
    for (const [id, base] of Object.entries(state.synced)) {
      if (byId.has(id) || base.envelopeSha256 === null || state.conflicts[id]) continue;
      changes.push({
        id,
        kind: base.kind as LocalRecord['kind'],
        revision: base.revision + 1,
        envelope: null,
        base_revision: base.revision,
      });
      after[id] = { kind: base.kind, revision: base.revision + 1, envelopeSha256: null };
    }
    if (changes.length === 0) return 0;
    const head = await signVaultHead(
      {
        hub: this.ports.hub,
        account_id: this.ports.accountId,
        counter: state.counter + 1,
        items_hash: itemsHash(after),
        device_key: encodePublicKey(this.ports.device.publicKey),
        time: this.ports.now(),
      },
      (m) => this.ports.device.sign(m),
    );
    let counter: number;
    try {
      ({ counter } = await this.call(() => this.ports.remote.push({ base_counter: state.counter, changes, head })));
    } catch (err) {
      // A ClawkeepError's code (the hub's code for a HubClientError), else `internal` (lib/errors.ts toErrorInfo).
      const code = errorCode(err);
      if (code === 'vault_stale' || code === 'vault_conflict') return 'stale';
      if (err instanceof SyncError) throw err;
      throw new SyncError('sync_refused', `The hub refused the changes (${code}).`, { cause: err });
    }
    await this.ports.store.saveState({
      ...state,
      counter,
      synced: after,
      seenHead: { counter, items_hash: head.statement.items_hash },
      lastSyncedAt: this.ports.now(),
    });
    return changes.length;
  }

  /**
   * The person picked a side of a conflict. "theirs" takes the hub's version (or its deletion) locally; "mine" keeps
   * the local version, which the next sync pushes over the hub's one.
   */
  async resolve(id: string, keep: 'mine' | 'theirs'): Promise<void> {
    const state = await this.state();
    const remote = state.conflicts[id];
    if (!remote) throw new SyncError('sync_refused', 'That conflict is already resolved.');
    if (keep === 'theirs') {
      const local = (await this.ports.store.records()).find((r) => r.id === id);
      const now = this.ports.now();
      if (remote.envelope)
        await this.ports.store.apply(
          [
            {
              id,
              kind: remote.kind,
              revision: remote.revision,
              createdAt: local?.createdAt ?? now,
              updatedAt: now,
              envelope: remote.envelope,
            },
          ],
          [],
        );
      else await this.ports.store.apply([], [id]);
    }
    const conflicts = { ...state.conflicts };
    delete conflicts[id];
    await this.ports.store.saveState({ ...state, conflicts });
  }
}
