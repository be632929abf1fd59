import { decodePublicKey, deviceKeyId, fingerprint } from '../../protocol/keys';
import type { PairingLookupResponse } from '../../protocol/device-pairing-wire';
import type { DeviceInfo, DevicePreview } from '../../hub-client/api';
import {
  approveDevice as sendApproval,
  denyPairing,
  JoinSession,
  listDevices,
  lookupPairing,
  removeDevice as sendRemoval,
} from '../../hub-client/devices';
import { normalizeHubUrl } from '../../hub-client/client';
import { HubClientError } from '../../hub-client/errors';
import { keyBindingProblem } from '../../hub-client/key-bindings';
import { proveHubIdentity } from '../../hub-client/hub-identity';
import { normalizePairingCode } from '../../protocol/device-pairing';
import type { HubCore } from './hub-core';
import type { JoinStatus } from '../../web-vault/page-devices';

/**
 * The approving device's side of pairing, in the background (it holds the device key and the vault key): look a
 * code up, approve the device it belongs to in one call, list and remove the account's devices.
 */

/** Lookups this worker made, by pairing id: approve() uses exactly the keys the person saw the fingerprint of. */
const lookups = new WeakMap<HubCore, Map<string, PairingLookupResponse>>();

/** The hub account this device acts for: the one it joined by pairing, else its own key id (it enrolled). */
async function accountId(core: HubCore): Promise<string> {
  return core.settings?.accounts?.[core.hub] ?? deviceKeyId((await core.signer(true)).publicKey);
}

// ---- This browser joining an existing vault (the new device's side) ---------------------------------------------

/**
 * The pairing in progress, in this worker's memory only: its device key's PKCS#8 and box private key are never
 * stored. A worker restart loses it (the page then says to start again), which is the safe side.
 */
const joins = new WeakMap<HubCore, JoinSession>();
/** The identity key the hub proved when the join started. */
const joinKeys = new WeakMap<HubCore, string>();

function session(core: HubCore): JoinSession {
  const s = joins.get(core);
  if (!s) throw new HubClientError('pairing_closed', 'This pairing is no longer open here. Start again.');
  return s;
}

export async function startJoin(
  core: HubCore,
  hubUrl: string,
  name: string,
): Promise<{ code: string; fingerprint: string; expiresAt: number }> {
  await core.ready;
  cancelJoin(core);
  const hub = normalizeHubUrl(hubUrl);
  await core.requireReach(hub);
  // Learn the hub's identity before asking it for anything, and hold on to it for finishJoin to pin (item 15).
  const key = await proveHubIdentity(core.ports.fetch, hub, null);
  const s = await JoinSession.start({ hub, name: name.trim() || null, fetch: core.ports.fetch, now: core.ports.now });
  joins.set(core, s);
  joinKeys.set(core, key);
  return { code: s.pairing.code, fingerprint: s.fingerprint, expiresAt: s.pairing.expires_at };
}

export async function pollJoin(core: HubCore): Promise<JoinStatus> {
  const r = await session(core).poll();
  return { status: r.status, approvedBy: r.status === 'approved' ? r.approvedBy : null };
}

export function cancelJoin(core: HubCore): void {
  joins.get(core)?.dispose();
  joins.delete(core);
  joinKeys.delete(core);
}

/**
 * Creates this browser's vault from the approval with the KEK the page derived from "a passphrase for this device",
 * then records the hub, this device and the account it joined, so the hub features run as for an enrolled device.
 */
export async function finishJoin(
  core: HubCore,
  protection: { kdf: unknown; salt: Uint8Array; kek: Uint8Array },
): Promise<void> {
  await core.ready;
  const s = session(core);
  const join = core.vault.join?.bind(core.vault);
  if (!join) throw new HubClientError('pairing_closed', 'This browser cannot join a vault here.');
  try {
    const { accountId: joined } = await s.finish(
      { join: (args) => join(args as Parameters<typeof join>[0]) },
      protection,
    );
    const settings = core.settings!;
    settings.hubUrl = s.client.hub;
    settings.enrolled[s.client.hub] = [...new Set([...(settings.enrolled[s.client.hub] ?? []), s.deviceKeyId])];
    settings.accounts = { ...settings.accounts, [s.client.hub]: joined };
    // The hub proved this key when the join started (startJoin); pin it now that this device belongs there.
    const key = joinKeys.get(core);
    if (key) settings.hubKeys = { ...settings.hubKeys, [s.client.hub]: key };
    await core.saveSettings();
  } finally {
    joins.delete(core);
  }
}

export async function lookupDevice(core: HubCore, code: string): Promise<DevicePreview> {
  await core.ready;
  if (normalizePairingCode(code) === null)
    throw new HubClientError('pairing_code_invalid', 'A pairing code has 8 letters, like BCDF-GHJK.');
  const client = await core.requireEnrolledClient(true);
  const found = await lookupPairing(client, code);
  let map = lookups.get(core);
  if (!map) lookups.set(core, (map = new Map<string, PairingLookupResponse>()));
  map.set(found.pairing_id, found);
  // Checked here so the person sees the refusal where the fingerprint is shown; approveDevice checks again.
  const keyProblem = keyBindingProblem(client.hub, 'device', {
    signing_key: found.device_key,
    box_key: found.box_key,
    name: found.name,
    key_binding: found.key_binding,
  });
  // Our own computation from the key we will seal to: the hub's `fingerprint` field is not what the person compares.
  return {
    pairing_id: found.pairing_id,
    fingerprint: fingerprint(decodePublicKey(found.device_key, 'ed25519')),
    name: found.name,
    expires_at: found.expires_at,
    keyProblem,
  };
}

export async function approveDevice(
  core: HubCore,
  pairingId: string,
): Promise<{ device_key_id: string; fingerprint: string }> {
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
    seal: (boxKey, context) =>
      core.vault.withUnlocked((service) => service.sealVaultKeyForPairing({ boxKey, context }), { activity: true }),
    now: core.ports.now(),
  });
  lookups.get(core)?.delete(pairingId);
  return { device_key_id: done.device_key_id, fingerprint: done.fingerprint };
}

export async function denyDevice(core: HubCore, pairingId: string): Promise<void> {
  await core.ready;
  if (!lookups.get(core)?.has(pairingId))
    throw new HubClientError('pairing_code_invalid', 'Look the pairing code up first.');
  await denyPairing(await core.requireEnrolledClient(true), pairingId);
  lookups.get(core)?.delete(pairingId);
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
  const signer = await core.signer(true);
  // This device signs the removal (CKDR), so devices and agents need not take the hub's word for it.
  await sendRemoval(client, { accountId: await accountId(core), deviceKeyId: id, signer, now: core.ports.now() });
  return devices(core);
}
