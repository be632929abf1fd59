import * as v from 'valibot';
import { verifyDeviceChain, type DeviceListEntry } from '../protocol/device-pairing';
import { decodePublicKey, deviceKeyId, encodePublicKey } from '../protocol/keys';
import { SyncError } from '../sync/errors';
import type { SyncConnection } from '../sync/sync-service';
import type { VaultService } from '../vault/vault-service';
import type { HubCore } from './hub-core';

const DeviceListSchema = v.object({
  account_id: v.string(),
  devices: v.array(v.object({ device_key_id: v.string(), device_key: v.string(), revoked_at: v.nullable(v.number()), statement: v.unknown() })),
});

/**
 * The sync connection of the extension's vault: the hub this device is enrolled with, the account its device key
 * belongs to, and the device keys trusted to sign vault heads — the hub's device list, accepted only as far as the
 * device-add chain back to the enrolling key verifies (a hub cannot slip in a key of its own). Devices removed later
 * stay trusted for heads they signed before (history); the hub refuses their requests.
 */
export async function hubSyncConnection(core: HubCore, service: VaultService): Promise<SyncConnection | null> {
  await core.ready;
  const signer = await service.deviceSigner();
  if (!core.isEnrolled(signer)) return null;
  const client = await core.client(false);
  const own = deviceKeyId(signer.publicKey);
  let accountId = own;
  let trusted: Uint8Array[] | null = null;
  const loadDevices = async (): Promise<Uint8Array[]> => {
    const res = await client.send('GET', '/v1/devices');
    const parsed = v.safeParse(DeviceListSchema, await res.json().catch(() => null));
    if (!parsed.success) throw new SyncError('sync_head_invalid', "The hub's device list is malformed.");
    accountId = parsed.output.account_id;
    let verified: Map<string, string>;
    try {
      verified = verifyDeviceChain(parsed.output.devices as unknown as DeviceListEntry[], { hub: core.hub, accountId });
    } catch (err) {
      throw new SyncError('sync_head_invalid', "The hub's device list does not verify back to the account's first device.", { cause: err });
    }
    if (verified.get(own) !== encodePublicKey(signer.publicKey)) throw new SyncError('sync_head_invalid', 'This device is not on the account the hub names.');
    return [...verified.values()].map((k) => decodePublicKey(k, 'ed25519'));
  };
  trusted = await loadDevices();
  return {
    hub: core.hub,
    accountId,
    remote: { pull: (since) => client.pullVault(since), push: (body) => client.pushVault(body) },
    device: { publicKey: signer.publicKey, sign: (m) => signer.sign(m) },
    trustedDeviceKeys: async () => trusted ?? (trusted = await loadDevices()),
  };
}
