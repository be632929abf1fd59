import { decodePublicKey, deviceKeyId, fingerprint } from '../protocol/keys';
import type { PairingLookupResponse } from '../protocol/device-pairing-wire';
import type { DeviceInfo, DevicePreview } from '../hub-client/api';
import { approveDevice as sendApproval, listDevices, lookupPairing, removeDevice as sendRemoval } from '../hub-client/devices';
import { HubClientError } from '../hub-client/errors';
import { normalizePairingCode } from '../protocol/device-pairing';
import type { HubCore } from './hub-core';

/**
 * The approving device's side of pairing, in the background (it holds the device key and the vault key): look a
 * code up, approve the device it belongs to in one call, list and remove the account's devices.
 */

/** Lookups this worker made, by pairing id: approve() uses exactly the keys the person saw the fingerprint of. */
const lookups = new WeakMap<HubCore, Map<string, PairingLookupResponse>>();

/** The hub account this device acts for: its own key id, as the device that enrolled (key id = account id). */
async function accountId(core: HubCore): Promise<string> {
  return deviceKeyId((await core.signer(true)).publicKey);
}

export async function lookupDevice(core: HubCore, code: string): Promise<DevicePreview> {
  await core.ready;
  if (normalizePairingCode(code) === null) throw new HubClientError('pairing_code_invalid', 'A pairing code has 8 letters, like BCDF-GHJK.');
  const client = await core.requireEnrolledClient(true);
  const found = await lookupPairing(client, code);
  let map = lookups.get(core);
  if (!map) lookups.set(core, (map = new Map()));
  map.set(found.pairing_id, found);
  // Our own computation from the key we will seal to: the hub's `fingerprint` field is not what the person compares.
  return { pairing_id: found.pairing_id, fingerprint: fingerprint(decodePublicKey(found.device_key, 'ed25519')), name: found.name, expires_at: found.expires_at };
}

export async function approveDevice(core: HubCore, pairingId: string): Promise<{ device_key_id: string; fingerprint: string }> {
  await core.ready;
  const lookup = lookups.get(core)?.get(pairingId);
  if (!lookup) throw new HubClientError('pairing_code_invalid', 'Look the pairing code up first.');
  const client = await core.requireEnrolledClient(true);
  const signer = await core.signer(true);
  const done = await sendApproval({
    client,
    accountId: await accountId(core),
    lookup,
    signer,
    // The vault key is sealed inside the vault service; only the CKPV bytes come back here.
    seal: (boxKey, context) => core.vault.withUnlocked((service) => service.sealVaultKeyForPairing({ boxKey, context }), { activity: true }),
    now: core.ports.now(),
  });
  lookups.get(core)?.delete(pairingId);
  return { device_key_id: done.device_key_id, fingerprint: done.fingerprint };
}

export async function devices(core: HubCore): Promise<DeviceInfo[]> {
  await core.ready;
  const client = await core.requireEnrolledClient(false);
  const signer = await core.signer(false);
  return listDevices(client, { accountId: await accountId(core), thisDeviceKeyId: deviceKeyId(signer.publicKey) });
}

export async function removeDevice(core: HubCore, id: string): Promise<DeviceInfo[]> {
  await core.ready;
  const client = await core.requireEnrolledClient(true);
  await sendRemoval(client, id);
  return devices(core);
}
