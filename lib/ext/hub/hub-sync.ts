import { deviceKeyId } from '../../protocol/keys';
import type { SyncConnection } from '../../sync/sync-service';
import { trustedHeadSigners } from '../../sync/trusted-devices';
import type { VaultService } from '../../vault/vault-service';
import type { HubCore } from './hub-core';

/**
 * The sync connection of the extension's vault: the hub this device is enrolled with, the account the hub's
 * chain-verified device list names for this device, and the keys trusted to sign vault heads.
 */
export async function hubSyncConnection(core: HubCore, service: VaultService): Promise<SyncConnection | null> {
  await core.ready;
  const signer = await service.deviceSigner();
  if (!core.isEnrolled(signer)) return null;
  const client = await core.client(false);
  const own = { keyId: deviceKeyId(signer.publicKey), publicKey: signer.publicKey };
  const { accountId, keys, removed } = await trustedHeadSigners(client, own, null);
  return {
    hub: core.hub,
    accountId,
    remote: { pull: (since) => client.pullVault(since), push: (body) => client.pushVault(body) },
    device: { publicKey: signer.publicKey, sign: (m) => signer.sign(m) },
    trustedDeviceKeys: async () => keys,
    removedDeviceKeys: async () => removed,
  };
}
