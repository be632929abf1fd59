import * as v from 'valibot';
import type { SyncStatus } from '../../sync/sync-service';
import { defineService, events, method } from '../rpc/service';

/**
 * Vault sync as extension pages reach it (rpc/service.ts): sync runs in the background, next to the vault key.
 * The generated proxy is the extension's `SyncApi` (lib/sync/sync-service.ts), the port the web vault implements
 * in the page too; `SyncService` serves it in the background (sync-background.ts).
 */
export const SYNC_SERVICE = defineService({
  channel: 'clawkeep.sync.rpc',
  name: 'sync',
  events: events('clawkeep.sync.event'),
  methods: {
    status: method().returns<SyncStatus>(),
    syncNow: method().returns<SyncStatus>(),
    /** Keeps this device's version ("mine") or the hub's ("theirs") of a conflicting item. */
    resolve: method(v.string(), v.picklist(['mine', 'theirs'])).returns<SyncStatus>(),
  },
});
