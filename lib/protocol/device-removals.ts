import { verifyDeviceChain, type DeviceListEntry } from './device-pairing';
import { deviceKeyId, decodePublicKey } from './keys';
import { verifyDeviceRemoval, type DeviceRemovalStatement } from './revocation';

/**
 * Which devices of a hub-served device list were removed, decided by signed CKDR statements only (issue 13 item 9;
 * docs/protocol.md §9 "Removal and revocation"). The hub's `revoked_at` is its word: a hub could set it to make a
 * device look removed, or clear it to bring one back. A removal counts here only when a device of the account's
 * verified chain signed it, for this hub, account and device.
 *
 * Who removed whom is not ordered (each signer picks its own `time`): when two devices removed each other, both are
 * removed. That errs towards refusing, which only denies service, something a hub can do by withholding anyway.
 * A removal signed by a device the caller already knows as removed (`knownRemoved`) is ignored: a stolen, removed
 * device cannot remove the device that removed it.
 */
export function verifiedRemovals(
  devices: readonly DeviceListEntry[],
  expected: { hub: string; accountId: string },
  chain: ReadonlyMap<string, string>,
  knownRemoved: ReadonlySet<string> = new Set(),
): Map<string, DeviceRemovalStatement> {
  const members = new Set(chain.values());
  const removed = new Map<string, DeviceRemovalStatement>();
  for (const d of devices) {
    if (!d.removal || chain.get(d.device_key_id) !== d.device_key) continue;
    try {
      const s = verifyDeviceRemoval(d.removal, {
        hub: expected.hub,
        account_id: expected.accountId,
        device_key_id: d.device_key_id,
        device_key: d.device_key,
      });
      if (members.has(s.removed_by) && !knownRemoved.has(s.removed_by)) removed.set(d.device_key_id, s);
    } catch {
      // A statement that does not verify removes nothing (the hub serves it; it is shown as unverified).
    }
  }
  return removed;
}

/** What a device shows for one listed device: its removal as verified, only claimed by the hub, or none. */
export type RemovalView = 'removed' | 'unverified' | null;

/**
 * The account's chain and its verified removals in one step, for a list whose account the caller knows.
 * `view(d)`: `removed` for a verified CKDR, `unverified` when the hub says `revoked_at` (or sends a statement)
 * without one that verifies, else null.
 * @throws ProtocolError `device_statement_invalid` (the chain does not verify; see verifyDeviceChain).
 */
export function verifyDeviceList(
  devices: readonly DeviceListEntry[],
  expected: { hub: string; accountId: string },
  knownRemoved: ReadonlySet<string> = new Set(),
): {
  chain: Map<string, string>;
  removals: Map<string, DeviceRemovalStatement>;
  view(d: DeviceListEntry): RemovalView;
} {
  const chain = verifyDeviceChain(devices, expected);
  const removals = verifiedRemovals(devices, expected, chain, knownRemoved);
  return {
    chain,
    removals,
    view: (d) =>
      removals.has(d.device_key_id) || knownRemoved.has(d.device_key)
        ? 'removed'
        : d.revoked_at !== null || d.removal
          ? 'unverified'
          : null,
  };
}

/**
 * The account a device list belongs to, as the agent can tell from its pinned device: the enrolling key's own id,
 * or the account its CKDA statement names. An agent does not pin the account, so a hub could re-root the pinned
 * device in an account of its making; that lets it claim removals, which only denies service (it cannot add a
 * signer: devicesVouchedBy walks down from the pinned device, never up).
 */
export function accountOfDevice(devices: readonly DeviceListEntry[], deviceKey: string): string | null {
  const entry = devices.find((d) => d && typeof d === 'object' && d.device_key === deviceKey);
  const named = entry?.statement?.statement?.account_id;
  if (typeof named === 'string') return named;
  try {
    return deviceKeyId(decodePublicKey(deviceKey, 'ed25519'));
  } catch {
    return null;
  }
}
