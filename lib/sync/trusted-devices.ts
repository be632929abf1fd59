import * as v from 'valibot';
import type { HubClient } from '../hub-client/client';
import type { DeviceListEntry } from '../protocol/device-pairing';
import { verifyDeviceList } from '../protocol/device-removals';
import { decodePublicKey, encodePublicKey } from '../protocol/keys';
import { SyncError } from '../protocol/sync-errors';

const DeviceListSchema = v.object({
  account_id: v.string(),
  devices: v.array(
    v.object({
      device_key_id: v.string(),
      device_key: v.string(),
      revoked_at: v.nullable(v.number()),
      statement: v.unknown(),
      removal: v.optional(v.unknown()),
    }),
  ),
});

/**
 * The device keys trusted to sign vault heads: the hub's device list, accepted only as far as the device-add chain
 * verifies back to the account's first device (a hub cannot slip in a key of its own), and only if it lists this
 * device. Devices removed later stay trusted for heads they signed before (history), not for later ones: `removed`
 * lists them, and the sync engine remembers each with the newest counter it had seen (so a hub that un-lists the
 * removal does not bring them back).
 * `accountId`: the account this device joined (null = learn it from the list, for the enrolling device).
 * @throws SyncError `sync_head_invalid`
 */
export async function trustedHeadSigners(
  client: HubClient,
  own: { keyId: string; publicKey: Uint8Array },
  accountId: string | null,
): Promise<{ accountId: string; keys: Uint8Array[]; removed: string[] }> {
  const res = await client.send('GET', '/v1/devices');
  const parsed = v.safeParse(DeviceListSchema, await res.json().catch(() => null));
  if (!parsed.success) throw new SyncError('sync_head_invalid', "The hub's device list is malformed.");
  const account = accountId ?? parsed.output.account_id;
  if (parsed.output.account_id !== account) throw new SyncError('sync_head_invalid', 'The hub listed another account.');
  const devices = parsed.output.devices as unknown as DeviceListEntry[];
  let checked: ReturnType<typeof verifyDeviceList>;
  try {
    checked = verifyDeviceList(devices, { hub: client.hub, accountId: account });
  } catch (err) {
    throw new SyncError(
      'sync_head_invalid',
      "The hub's device list does not verify back to the account's first device.",
      { cause: err },
    );
  }
  const verified = checked.chain;
  if (verified.get(own.keyId) !== encodePublicKey(own.publicKey))
    throw new SyncError('sync_head_invalid', 'This device is not on the account the hub names.');
  // Removed devices: the sync engine remembers them and refuses their later heads (engine.ts rememberRemoved).
  const removed = [...checked.removals.values()].map((s) => s.device_key);
  return { accountId: account, keys: [...verified.values()].map((k) => decodePublicKey(k, 'ed25519')), removed };
}
