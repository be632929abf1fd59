import { SyncError } from '../../protocol/sync-errors';
import { channelCaller, subscribeTo } from '../rpc/rpc-channel';
import { isSyncEventMessage, SYNC_RPC_CHANNEL, type SyncApi, type SyncMethod } from './sync-rpc';

const call = channelCaller<SyncMethod>(SYNC_RPC_CHANNEL, (code, message, cause) => {
  const known = ['sync_rollback', 'sync_fork', 'sync_head_invalid', 'sync_offline', 'sync_refused', 'sync_busy'];
  return new SyncError((known.includes(code) ? code : 'sync_refused') as never, message, cause === undefined ? undefined : { cause });
});

/** The SyncApi for extension pages: sync runs in the background, next to the vault key. */
export function createExtensionSyncApi(): SyncApi {
  return {
    status: () => call('status'),
    syncNow: () => call('syncNow'),
    resolve: (id, keep) => call('resolve', { id, keep }),
    subscribe: (listener) => subscribeTo(isSyncEventMessage, listener),
  };
}
