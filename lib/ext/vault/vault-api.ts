import * as v from 'valibot';
import type { BackendStatus, VaultBackend } from '../../vault/backend';
import type { VaultEvent } from '../../vault/client';
import type { BackupImportReport } from '../../vault/backup-merge';
import type { ItemDraft, ItemSummary, SecretFields, VaultItem } from '../../vault/types';
import { defineService, events, method, type ServiceApi } from '../rpc/service';
import { bytesArg, kdfParamsArg, objectArg } from '../rpc/service-args';

/** Arguments that carry a new wrapping of the vault key: KDF parameters, their salt and the derived KEK. */
const wrapping = { kdf: kdfParamsArg, salt: bytesArg };

/**
 * The vault as extension pages reach it (rpc/service.ts): every method of the key-level `VaultBackend` port runs in
 * the background, where the keyholder (keyholder.ts) holds the vault key; lock / unlock / change events reach every
 * open page. Pages only ever send derived keys (KEKs), never a passphrase.
 */
export const VAULT_RPC_CHANNEL = 'clawkeep.vault.rpc';

export const VAULT_SERVICE = defineService({
  channel: VAULT_RPC_CHANNEL,
  name: 'the vault',
  events: events<VaultEvent>('clawkeep.vault.event'),
  methods: {
    status: method().returns<BackendStatus>(),
    create: method(v.object({ ...wrapping, kek: bytesArg })).returns<void>(),
    unlock: method(v.object({ kek: bytesArg })).returns<void>(),
    lock: method().returns<void>(),
    list: method().returns<ItemSummary[]>(),
    recent: method(v.object({ limit: v.number() })).returns<ItemSummary[]>(),
    search: method(v.object({ query: v.string() })).returns<ItemSummary[]>(),
    get: method(v.object({ id: v.string() })).returns<VaultItem>(),
    // The draft's fields are checked by VaultService.save (item_invalid, with a message per field).
    save: method(v.object({ draft: objectArg<ItemDraft>('an item draft (an object)') })).returns<VaultItem>(),
    remove: method(v.object({ id: v.string() })).returns<void>(),
    rewrap: method(v.object({ currentKek: bytesArg, ...wrapping, newKek: bytesArg })).returns<void>(),
    exportBackup: method(v.object({ ...wrapping, kek: bytesArg })).returns<Uint8Array>(),
    importBackup: method(v.object({ file: bytesArg, kek: bytesArg })).returns<BackupImportReport>(),
    // Each item's fields are checked by VaultService.importItems (item_invalid; no reserved clawkeep: tag).
    importItems: method(
      v.object({ items: v.array(objectArg<SecretFields>('the fields of a secret (an object)')) }),
    ).returns<{ added: number }>(),
    setRecovery: method(v.object({ kek: bytesArg, salt: bytesArg })).returns<{ createdAt: number }>(),
    checkRecovery: method(v.object({ kek: bytesArg })).returns<void>(),
    recover: method(v.object({ recoveryKek: bytesArg, ...wrapping, newKek: bytesArg })).returns<void>(),
    // The range is checked by VaultService.setSettings (settings_invalid).
    setSettings: method(v.object({ settings: v.object({ autoLockSeconds: v.nullable(v.number()) }) })).returns<void>(),
    recordKdfEstimate: method(v.object({ ms: v.number() })).returns<void>(),
    touch: method().returns<void>(),
  },
});

export type VaultMethod = keyof VaultBackend;

/**
 * `VaultBackend` is a port with two implementations (this channel, and the web vault's page-side VaultService), so
 * it stays a hand-written interface; tsc checks here that the declaration says exactly the same, both ways.
 */
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const VAULT_SERVICE_MATCHES_BACKEND: Agree<
  Omit<ServiceApi<typeof VAULT_SERVICE>, 'subscribe'>,
  VaultBackend
> = true;
