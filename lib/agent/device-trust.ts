import { devicesVouchedBy, type DeviceListEntry } from '../protocol/device-pairing';
import { accountOfDevice, verifiedRemovals } from '../protocol/device-removals';
import { verifyDeviceChain } from '../protocol/device-pairing';
import { isEpoch, isId } from '../protocol/fields';
import { decodePublicKey } from '../protocol/keys';
import { verifyInstallationRevocation, type InstallationRevocationStatement } from '../protocol/revocation';
import type { AgentState } from './state';

/**
 * Which devices an agent accepts signatures from, and what it remembers about removals and its own revocation
 * (issue 13 item 9). Kept in the state file like the replay guard, so a hub that later drops a removal or a
 * revocation statement cannot undo what the agent saw once:
 *
 * - `removed_devices`: devices removed by a CKDR that a device of the account signed (device-removals.ts). Never
 *   again a signer here, nor anything only they vouched for. The hub's `revoked_at` alone changes nothing: a hub
 *   cannot make a device look removed to the agent, nor bring a removed one back.
 * - `revoked`: this agent's installation was revoked by a CKIR its pinned device (or a device that one added)
 *   signed. The agent stops for good (`installation_revoked`); only a new registration and claim bring it back.
 */

/** A device the agent saw removed by a verified CKDR. */
export interface RemovedDevice {
  /** Ed25519 key, base64url. */
  device_key: string;
  /** The removal's signed time (informational). */
  time: number;
}

/** The revocation of this agent's installation, as verified once. */
export interface SeenRevocation {
  installation_id: string;
  time: number;
}

/** At most this many removed devices are remembered (an account has far fewer). */
export const MAX_REMOVED_DEVICES = 256;

/** Validates the stored records; returns the field at fault or null. */
export function trustRecordsProblem(v: { removed_devices?: unknown; revoked?: unknown }): string | null {
  if (v.removed_devices !== undefined) {
    if (!Array.isArray(v.removed_devices) || v.removed_devices.length > MAX_REMOVED_DEVICES) return 'removed_devices';
    for (const r of v.removed_devices as Partial<RemovedDevice>[]) {
      try {
        decodePublicKey(r?.device_key as string, 'ed25519');
      } catch {
        return 'removed_devices';
      }
      if (!isEpoch(r.time)) return 'removed_devices';
    }
  }
  if (v.revoked !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- not unnecessary: without it tsc infers a narrower type and fails
    const r = v.revoked as Partial<SeenRevocation> | null;
    if (!r || typeof r !== 'object' || !isId(r.installation_id) || !isEpoch(r.time)) return 'revoked';
  }
  return null;
}

/** Fresh copies of the records, for a parsed state. */
export function copyTrustRecords(
  v: Pick<AgentState, 'removed_devices' | 'revoked'>,
): Pick<AgentState, 'removed_devices' | 'revoked'> {
  return {
    ...(v.removed_devices
      ? { removed_devices: v.removed_devices.map((r) => ({ device_key: r.device_key, time: r.time })) }
      : {}),
    ...(v.revoked ? { revoked: { installation_id: v.revoked.installation_id, time: v.revoked.time } } : {}),
  };
}

/**
 * The devices whose approvals and deliveries the agent accepts, given the hub-served `devices` list (when any): the
 * pinned device and the devices it added, minus every device removed by a verified CKDR (remembered or new).
 * `learned` are the removals first seen now: the caller saves them in the state before trusting anything.
 */
export function trustedSigners(
  state: AgentState,
  devices: readonly unknown[] | undefined,
): { signers: Uint8Array[]; learned: RemovedDevice[] } {
  const pinned = state.device_key!;
  const known = new Set((state.removed_devices ?? []).map((r) => r.device_key));
  const learned: RemovedDevice[] = [];
  const list = Array.isArray(devices) ? (devices.filter((d) => !!d && typeof d === 'object') as DeviceListEntry[]) : [];
  const accountId = list.length > 0 ? accountOfDevice(list, pinned) : null;
  if (accountId) {
    try {
      const chain = verifyDeviceChain(list, { hub: state.hub, accountId });
      for (const s of verifiedRemovals(list, { hub: state.hub, accountId }, chain, known).values()) {
        if (!known.has(s.device_key)) learned.push({ device_key: s.device_key, time: s.time });
      }
    } catch {
      // A list that does not verify teaches no removal; the remembered ones still apply.
    }
  }
  const removed = new Set([...known, ...learned.map((r) => r.device_key)]);
  const signers = Array.isArray(devices)
    ? devicesVouchedBy(decodePublicKey(pinned, 'ed25519'), devices, state.hub, removed)
    : removed.has(pinned)
      ? []
      : [decodePublicKey(pinned, 'ed25519')];
  return { signers, learned };
}

/** The state with `learned` removals added (bounded: the oldest are dropped last, an account has few devices). */
export function withRemoved(state: AgentState, learned: readonly RemovedDevice[]): AgentState {
  if (learned.length === 0) return state;
  return { ...state, removed_devices: [...(state.removed_devices ?? []), ...learned].slice(-MAX_REMOVED_DEVICES) };
}

/**
 * A CKIR for this agent's pinned installation and signing key, signed by a device in `signers`; null when `signed`
 * is absent or does not verify so (a hub's bare "revoked" is not enough to stop the agent for good).
 */
export function verifiedRevocation(
  state: AgentState,
  signers: readonly Uint8Array[],
  signed: unknown,
  agentSigningKey: string,
): InstallationRevocationStatement | null {
  if (!signed || !state.installation_id) return null;
  try {
    const s = verifyInstallationRevocation(signed, {
      hub: state.hub,
      installation_id: state.installation_id,
      agent_signing_key: agentSigningKey,
    });
    const by = decodePublicKey(s.revoked_by, 'ed25519');
    return signers.some((k) => k.length === by.length && k.every((b, i) => b === by[i])) ? s : null;
  } catch {
    return null;
  }
}
