import type { SyncStatus } from '../sync/sync-service';

/** Messages between extension pages and the background about vault sync. Plain JSON. */
export const SYNC_RPC_CHANNEL = 'clawkeep.sync.rpc';
export const SYNC_EVENT_CHANNEL = 'clawkeep.sync.event';
export const SYNC_METHODS = ['status', 'syncNow', 'resolve'] as const;
export type SyncMethod = (typeof SYNC_METHODS)[number];

export interface SyncApi {
  status(): Promise<SyncStatus>;
  syncNow(): Promise<SyncStatus>;
  /** Keeps this device's version ("mine") or the hub's ("theirs") of a conflicting item. */
  resolve(id: string, keep: 'mine' | 'theirs'): Promise<SyncStatus>;
  subscribe(listener: () => void): () => void;
}

export const isSyncEventMessage = (m: unknown): boolean => (m as { channel?: string } | null)?.channel === SYNC_EVENT_CHANNEL;
