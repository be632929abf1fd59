import { toBase64Url } from './base64url';
import { ProtocolError } from './errors';
import { check, exactFields, isEpoch, isId, isOrigin } from './fields';
import { decodePublicKey, deviceKeyId, encodePublicKey } from './keys';
import { statementBytes, verifyStatement, type SignedStatement, type StatementFormat } from './signed-statement';

/**
 * Device removal and installation revocation as statements a device signs (issue 13 item 9; docs/protocol.md §9
 * "Removal and revocation"). Before these, a removal was the hub's `revoked_at` alone: a hub could "un-remove" a
 * device (or claim a removal that never happened) and the people relying on it could not tell.
 *
 * ```text
 *   removal    = "CKDR" | 0x01 | canonicalBytes({hub, account_id, device_key_id, device_key, removed_by, time})
 *   revocation = "CKIR" | 0x01 | canonicalBytes({hub, installation_id, agent_signing_key, revoked_by, time})
 * ```
 *
 * - CKDR is signed by `removed_by`, the Ed25519 key of a device of the account (the hub checks it is the calling,
 *   not-removed device; verifiers check it is a device of the account's verified chain). `device_key_id` must be
 *   deviceKeyId(`device_key`), so the id the hub lists and the key a verifier trusts are the same device.
 * - CKIR is signed by `revoked_by`, the device key of the person revoking (the agent checks it is its pinned device
 *   or a device that one added). It names the agent's signing key, so it cannot be moved to another agent.
 * - `time`: epoch ms on the signer's clock, informational (a signer picks it; nothing is ordered by it).
 */
export const DEVICE_REMOVAL_TAG = 'CKDR';
export const DEVICE_REMOVAL_VERSION = 1;
export const INSTALLATION_REVOCATION_TAG = 'CKIR';
export const INSTALLATION_REVOCATION_VERSION = 1;

export interface DeviceRemovalStatement {
  hub: string;
  account_id: string;
  /** The removed device's key id (deviceKeyId of device_key). */
  device_key_id: string;
  /** The removed device's Ed25519 key, base64url. */
  device_key: string;
  /** The removing device's Ed25519 key, base64url: the key this statement is signed with. */
  removed_by: string;
  time: number;
}

export interface InstallationRevocationStatement {
  hub: string;
  installation_id: string;
  /** The revoked agent's Ed25519 signing key, base64url. */
  agent_signing_key: string;
  /** The revoking device's Ed25519 key, base64url: the key this statement is signed with. */
  revoked_by: string;
  time: number;
}

export type SignedDeviceRemoval = SignedStatement<DeviceRemovalStatement>;
export type SignedInstallationRevocation = SignedStatement<InstallationRevocationStatement>;

const REMOVAL_KEYS = ['account_id', 'device_key', 'device_key_id', 'hub', 'removed_by', 'time'];
const REVOCATION_KEYS = ['agent_signing_key', 'hub', 'installation_id', 'revoked_by', 'time'];

export const DEVICE_REMOVAL_FORMAT: StatementFormat<DeviceRemovalStatement> = {
  tag: DEVICE_REMOVAL_TAG,
  version: DEVICE_REMOVAL_VERSION,
  code: 'revocation_invalid',
  what: 'Device removal statement',
  validate(value) {
    const v = exactFields(value, REMOVAL_KEYS, 'removal');
    check(isOrigin(v.hub), 'removal.hub');
    check(isId(v.account_id), 'removal.account_id');
    const key = decodePublicKey(v.device_key as string, 'ed25519', 'removal.device_key');
    check(v.device_key_id === deviceKeyId(key), 'removal.device_key_id');
    decodePublicKey(v.removed_by as string, 'ed25519', 'removal.removed_by');
    check(isEpoch(v.time), 'removal.time');
    return {
      hub: v.hub as string,
      account_id: v.account_id as string,
      device_key_id: v.device_key_id as string,
      device_key: v.device_key as string,
      removed_by: v.removed_by as string,
      time: v.time as number,
    };
  },
};

export const INSTALLATION_REVOCATION_FORMAT: StatementFormat<InstallationRevocationStatement> = {
  tag: INSTALLATION_REVOCATION_TAG,
  version: INSTALLATION_REVOCATION_VERSION,
  code: 'revocation_invalid',
  what: 'Installation revocation statement',
  validate(value) {
    const v = exactFields(value, REVOCATION_KEYS, 'revocation');
    check(isOrigin(v.hub), 'revocation.hub');
    check(isId(v.installation_id), 'revocation.installation_id');
    decodePublicKey(v.agent_signing_key as string, 'ed25519', 'revocation.agent_signing_key');
    decodePublicKey(v.revoked_by as string, 'ed25519', 'revocation.revoked_by');
    check(v.revoked_by !== v.agent_signing_key, 'revocation.revoked_by');
    check(isEpoch(v.time), 'revocation.time');
    return {
      hub: v.hub as string,
      installation_id: v.installation_id as string,
      agent_signing_key: v.agent_signing_key as string,
      revoked_by: v.revoked_by as string,
      time: v.time as number,
    };
  },
};

/** The exact bytes a removal signature covers ("CKDR" | 0x01 | canonical statement). */
export const deviceRemovalBytes = (s: DeviceRemovalStatement): Uint8Array =>
  statementBytes(DEVICE_REMOVAL_FORMAT, DEVICE_REMOVAL_FORMAT.validate(s));
/** The exact bytes a revocation signature covers ("CKIR" | 0x01 | canonical statement). */
export const installationRevocationBytes = (s: InstallationRevocationStatement): Uint8Array =>
  statementBytes(INSTALLATION_REVOCATION_FORMAT, INSTALLATION_REVOCATION_FORMAT.validate(s));

type Sign = (message: Uint8Array) => Promise<Uint8Array> | Uint8Array;

/** Builds and signs a CKDR with the removing device's signer (its private key stays where it is). */
export async function makeDeviceRemoval(
  input: { hub: string; accountId: string; deviceKey: Uint8Array; removedBy: Uint8Array; time: number },
  sign: Sign,
): Promise<SignedDeviceRemoval> {
  const statement = DEVICE_REMOVAL_FORMAT.validate({
    hub: input.hub,
    account_id: input.accountId,
    device_key_id: deviceKeyId(input.deviceKey),
    device_key: encodePublicKey(input.deviceKey),
    removed_by: encodePublicKey(input.removedBy),
    time: input.time,
  });
  return { statement, signature: toBase64Url(await sign(deviceRemovalBytes(statement))) };
}

/** Builds and signs a CKIR with the revoking device's signer. */
export async function makeInstallationRevocation(
  input: { hub: string; installationId: string; agentSigningKey: string; revokedBy: Uint8Array; time: number },
  sign: Sign,
): Promise<SignedInstallationRevocation> {
  const statement = INSTALLATION_REVOCATION_FORMAT.validate({
    hub: input.hub,
    installation_id: input.installationId,
    agent_signing_key: input.agentSigningKey,
    revoked_by: encodePublicKey(input.revokedBy),
    time: input.time,
  });
  return { statement, signature: toBase64Url(await sign(installationRevocationBytes(statement))) };
}

/** The key a statement names as its signer, decoded; a malformed one fails as the format's code. */
function namedSigner(signed: unknown, field: 'removed_by' | 'revoked_by', what: string): Uint8Array {
  const raw = (signed as { statement?: Record<string, unknown> } | null)?.statement?.[field];
  try {
    return decodePublicKey(raw as string, 'ed25519');
  } catch (err) {
    throw new ProtocolError('revocation_invalid', `${what} is malformed.`, { cause: err });
  }
}

/**
 * Checks a CKDR's shape and signature (by the `removed_by` it names) and the fields the caller expects. Whether
 * `removed_by` is a device of the account is the caller's check (it knows the verified chain).
 * @throws ProtocolError `revocation_invalid`
 */
export function verifyDeviceRemoval(
  signed: unknown,
  expected: Partial<DeviceRemovalStatement>,
): DeviceRemovalStatement {
  if (signed === null || signed === undefined)
    throw new ProtocolError('revocation_invalid', 'There is no device removal statement.');
  return verifyStatement(
    DEVICE_REMOVAL_FORMAT,
    namedSigner(signed, 'removed_by', 'Device removal statement'),
    signed,
    expected,
  );
}

/**
 * Checks a CKIR's shape and signature (by the `revoked_by` it names) and the fields the caller expects; the caller
 * checks `revoked_by` is a device it trusts.
 * @throws ProtocolError `revocation_invalid`
 */
export function verifyInstallationRevocation(
  signed: unknown,
  expected: Partial<InstallationRevocationStatement>,
): InstallationRevocationStatement {
  if (signed === null || signed === undefined)
    throw new ProtocolError('revocation_invalid', 'There is no installation revocation statement.');
  return verifyStatement(
    INSTALLATION_REVOCATION_FORMAT,
    namedSigner(signed, 'revoked_by', 'Installation revocation statement'),
    signed,
    expected,
  );
}
