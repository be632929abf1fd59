import type { SyncApi } from '../../sync/sync-service';

export type { SyncApi };

/** Messages between extension pages and the background about vault sync. Plain JSON. */
export const SYNC_RPC_CHANNEL = 'clawkeep.sync.rpc';
export const SYNC_EVENT_CHANNEL = 'clawkeep.sync.event';
export const SYNC_METHODS = ['status', 'syncNow', 'resolve'] as const;
export type SyncMethod = (typeof SYNC_METHODS)[number];

export const isSyncEventMessage = (m: unknown): boolean => (m as { channel?: string } | null)?.channel === SYNC_EVENT_CHANNEL;
