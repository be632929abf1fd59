import { x25519 } from '@noble/curves/ed25519.js';
import * as v from 'valibot';
import { wipe } from '../bytes';
import {
  buildPairingApproval,
  openPairingApproval,
  verifyDeviceChain,
  type PairingContext,
} from '../protocol/device-pairing';
import type {
  DeviceListResponse,
  DeviceRemoveResponse,
  PairingApproveResponse,
  PairingCreateResponse,
  PairingLookupResponse,
  PairingStatusResponse,
} from '../protocol/device-pairing-wire';
import { decodePublicKey, deviceKeyId, encodePublicKey, fingerprint } from '../protocol/keys';
import { generateDeviceKey, type DeviceSigner } from '../identity/device-key';
import { makeKeyBinding } from '../protocol/key-binding';
import { verifyDeviceList } from '../protocol/device-removals';
import { makeDeviceRemoval } from '../protocol/revocation';
import { assertKeyBinding } from './key-bindings';
import { HubClient, type HubSigner } from './client';
import type { DeviceInfo } from './api';
import { HubClientError } from './errors';
import { readStrictJson } from '../protocol/strict-json';

/**
 * Device pairing from a client's side (issue 8; README "Devices and pairing"), framework-free, over HubClient's
 * signed requests. The approving device's half is `approveDevice`; the new device's half is `JoinSession`.
 */

const Key = v.pipe(v.string(), v.length(43));
const Epoch = v.pipe(v.number(), v.integer(), v.minValue(0));
const CreateSchema = v.object({ pairing_id: v.string(), code: v.string(), fingerprint: v.string(), expires_at: Epoch });
const LookupSchema = v.object({
  pairing_id: v.string(),
  device_key: Key,
  box_key: Key,
  fingerprint: v.string(),
  name: v.nullable(v.string()),
  expires_at: Epoch,
  // Checked by assertKeyBinding before anything is sealed; an older hub sends none, and the approval is refused.
  key_binding: v.optional(v.nullable(v.unknown()), null),
});
const StatusSchema = v.object({
  pairing_id: v.string(),
  status: v.picklist(['pending', 'approved', 'denied', 'expired']),
  expires_at: Epoch,
  account_id: v.nullable(v.string()),
  approval: v.nullable(v.object({ device: v.unknown(), sealed_vault_key: v.string() })),
});
const DeviceSchema = v.object({
  device_key_id: v.string(),
  device_key: Key,
  name: v.nullable(v.string()),
  added_at: Epoch,
  revoked_at: v.nullable(Epoch),
  statement: v.nullable(v.unknown()),
  removal: v.optional(v.nullable(v.unknown()), null),
});
const ListSchema = v.object({ account_id: v.string(), devices: v.array(DeviceSchema) });
const ApproveSchema = v.object({ device_key_id: v.string(), fingerprint: v.string(), added_at: Epoch });
const RemoveSchema = v.object({ device_key_id: v.string(), revoked_at: Epoch });

async function json<S extends v.GenericSchema>(
  client: HubClient,
  schema: S,
  what: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<v.InferOutput<S>> {
  const res = await client.send(method, path, body);
  let value: unknown;
  try {
    value = await readStrictJson(res);
  } catch (err) {
    throw new HubClientError('hub_bad_response', `The hub sent a malformed ${what}.`, { cause: err });
  }
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) throw new HubClientError('hub_bad_response', `The hub sent a malformed ${what}.`);
  return parsed.output;
}

export const lookupPairing = async (client: HubClient, code: string): Promise<PairingLookupResponse> =>
  (await json(client, LookupSchema, 'pairing lookup', 'POST', '/v1/pairings/lookup', {
    code,
  })) as PairingLookupResponse;

/** A device as this device shows it (verified against the chain of device-add statements): the pages' DeviceInfo. */
export type DeviceView = DeviceInfo;

/**
 * GET /v1/devices, verified: every listed device must chain back to the enrolling key by signed device-add
 * statements (the hub cannot slip a device of its own into the list shown). @throws HubClientError, ProtocolError.
 */
export async function listDevices(
  client: HubClient,
  expected: { accountId: string; thisDeviceKeyId: string },
): Promise<DeviceView[]> {
  const list = (await json(client, ListSchema, 'device list', 'GET', '/v1/devices')) as DeviceListResponse;
  if (list.account_id !== expected.accountId)
    throw new HubClientError('hub_bad_response', 'The hub listed another account.');
  const checked = verifyDeviceList(list.devices, { hub: client.hub, accountId: expected.accountId });
  return list.devices.map((d) => {
    // A removal shows only as the signed CKDR says (its signer's time); the hub's bare revoked_at is "unverified".
    const removal = checked.view(d);
    return {
      deviceKeyId: d.device_key_id,
      fingerprint: fingerprint(decodePublicKey(d.device_key, 'ed25519')),
      name: d.name,
      addedAt: d.added_at,
      revokedAt: removal === 'removed' ? checked.removals.get(d.device_key_id)!.time : null,
      removalUnverified: removal === 'unverified',
      isThisDevice: d.device_key_id === expected.thisDeviceKeyId,
    };
  });
}

/** POST /v1/pairings/:id/deny: the new device sees `denied` and needs a new code. */
export async function denyPairing(client: HubClient, pairingId: string): Promise<void> {
  await client.send('POST', `/v1/pairings/${encodeURIComponent(pairingId)}/deny`);
}

/**
 * DELETE /v1/devices/:id with a CKDR this device signs (issue 13 item 9): the hub refuses the removed device's next
 * request at once, and every other device and agent can check the removal is this device's word, not the hub's.
 * The removed device's key comes from the verified chain, never from the hub's entry alone.
 * @throws HubClientError `not_found` (not a device of the verified list), hub codes.
 */
export async function removeDevice(
  client: HubClient,
  input: { accountId: string; deviceKeyId: string; signer: DeviceSigner; now: number },
): Promise<DeviceRemoveResponse> {
  const list = (await json(client, ListSchema, 'device list', 'GET', '/v1/devices')) as DeviceListResponse;
  if (list.account_id !== input.accountId)
    throw new HubClientError('hub_bad_response', 'The hub listed another account.');
  const key = verifyDeviceChain(list.devices, { hub: client.hub, accountId: input.accountId }).get(input.deviceKeyId);
  if (!key) throw new HubClientError('not_found', 'No such device on this account.');
  const removal = await makeDeviceRemoval(
    {
      hub: client.hub,
      accountId: input.accountId,
      deviceKey: decodePublicKey(key, 'ed25519'),
      removedBy: input.signer.publicKey,
      time: input.now,
    },
    (m) => input.signer.sign(m),
  );
  return json(
    client,
    RemoveSchema,
    'device removal',
    'DELETE',
    `/v1/devices/${encodeURIComponent(input.deviceKeyId)}`,
    { removal },
  );
}

/**
 * The approving device's one click: signs the CKDA statement for the device the lookup showed (the person compared
 * its fingerprint with the new device's screen) and sends the vault key sealed to its box key. `seal` runs where
 * the vault key lives (VaultService.sealVaultKeyForPairing), so only ciphertext passes through here.
 *
 * The box key comes from the hub's answer; before anything is sealed, the new device's CKKB binding must show that
 * the key whose fingerprint the person compared signed exactly this box key and name for this hub (issue 13 item 1).
 * @throws HubClientError `key_binding_invalid` ("The hub changed this device's key — do not approve.") with nothing
 * sealed or sent.
 */
export async function approveDevice(input: {
  client: HubClient;
  accountId: string;
  lookup: PairingLookupResponse;
  signer: DeviceSigner;
  seal(boxKey: Uint8Array, context: PairingContext): Promise<Uint8Array>;
  now: number;
}): Promise<PairingApproveResponse> {
  const { client, lookup } = input;
  assertKeyBinding(client.hub, 'device', {
    signing_key: lookup.device_key,
    box_key: lookup.box_key,
    name: lookup.name,
    key_binding: lookup.key_binding,
  });
  const approval = await buildPairingApproval({
    hub: client.hub,
    accountId: input.accountId,
    pairingId: lookup.pairing_id,
    deviceKey: decodePublicKey(lookup.device_key, 'ed25519'),
    boxKey: decodePublicKey(lookup.box_key, 'x25519'),
    signer: input.signer,
    seal: input.seal,
    now: input.now,
  });
  return json(
    client,
    ApproveSchema,
    'pairing approval',
    'POST',
    `/v1/pairings/${encodeURIComponent(lookup.pairing_id)}/approve`,
    approval,
  );
}

/** What join() needs from the local vault: VaultService.join (or its keyholder RPC). */
export interface JoinTarget {
  join(args: {
    vaultId: Uint8Array;
    vaultKey: Uint8Array;
    kdf: unknown;
    salt: Uint8Array;
    kek: Uint8Array;
    deviceKey: { publicKey: Uint8Array; pkcs8: Uint8Array };
  }): Promise<void>;
}

/** `approvedBy`: the fingerprint of the device that signed the approval, for the person to compare (checked in finish()). */
export type JoinPoll =
  | { status: 'pending' }
  | { status: 'expired' }
  | { status: 'denied' }
  | { status: 'approved'; accountId: string; approvedBy: string };

/**
 * The new device's side. start() makes its Ed25519 device key and X25519 box key (both in memory only until the
 * vault exists: the PKCS#8 and the box private key are wiped by finish() or dispose()), asks the hub for a pairing
 * and returns the code to show with this device's fingerprint. poll() asks whether it was approved; finish() checks
 * the approval (a device of the account signed it, for this hub, pairing and keys, over exactly this sealed blob,
 * and that device chains back to the enrolling key), opens the vault key and creates the local vault with it.
 */
export class JoinSession {
  private approval: PairingStatusResponse['approval'] = null;
  private accountId: string | null = null;
  private disposed = false;

  private constructor(
    readonly client: HubClient,
    readonly pairing: PairingCreateResponse,
    private readonly signer: DeviceSigner,
    private readonly pkcs8: Uint8Array,
    private readonly boxPrivate: Uint8Array,
  ) {}

  get deviceKeyId(): string {
    return deviceKeyId(this.signer.publicKey);
  }

  static async start(options: {
    hub: string;
    name: string | null;
    fetch?: typeof fetch;
    now?: () => number;
  }): Promise<JoinSession> {
    const { signer, pkcs8 } = await generateDeviceKey();
    const boxPrivate = x25519.utils.randomSecretKey();
    try {
      const hubSigner: HubSigner = { role: 'human', keyId: deviceKeyId(signer.publicKey), sign: (m) => signer.sign(m) };
      const client = new HubClient({ hub: options.hub, signer: hubSigner, fetch: options.fetch, now: options.now });
      const boxKey = x25519.getPublicKey(boxPrivate);
      // The device key vouches for the box key: the approving device seals the vault key only to a box key this
      // device signed for this hub (issue 13 item 1), so a hub that swaps it gets nothing sealed.
      const key_binding = await makeKeyBinding(
        {
          hub: client.hub,
          role: 'device',
          name: options.name,
          time: (options.now ?? Date.now)(),
          signingKey: signer.publicKey,
          boxKey,
        },
        (m) => signer.sign(m),
      );
      const pairing = await json(client, CreateSchema, 'pairing', 'POST', '/v1/pairings', {
        device_key: encodePublicKey(signer.publicKey),
        box_key: encodePublicKey(boxKey),
        name: options.name,
        key_binding,
      });
      return new JoinSession(client, pairing, signer, pkcs8, boxPrivate);
    } catch (err) {
      wipe(pkcs8, boxPrivate);
      throw err;
    }
  }

  /** This device's fingerprint: the approving device shows the same string. */
  get fingerprint(): string {
    return fingerprint(this.signer.publicKey);
  }

  async poll(): Promise<JoinPoll> {
    const s = (await json(
      this.client,
      StatusSchema,
      'pairing status',
      'GET',
      `/v1/pairings/${encodeURIComponent(this.pairing.pairing_id)}`,
    )) as PairingStatusResponse;
    if (s.status !== 'approved') return { status: s.status };
    if (!s.approval || !s.account_id)
      throw new HubClientError('hub_bad_response', 'The hub sent an approval without its statement.');
    let approvedBy: string;
    try {
      approvedBy = fingerprint(
        decodePublicKey(
          (s.approval.device as { statement?: { added_by?: string } })?.statement?.added_by as string,
          'ed25519',
        ),
      );
    } catch (err) {
      throw new HubClientError('hub_bad_response', 'The hub sent an approval without a valid approving device.', {
        cause: err,
      });
    }
    this.approval = s.approval;
    this.accountId = s.account_id;
    return { status: 'approved', accountId: s.account_id, approvedBy };
  }

  /**
   * Creates the local vault from the approval (call after poll() said approved), protected by this device's own
   * passphrase (kek, kdf, salt). Returns the account id. Wipes the box private key and the PKCS#8 either way.
   */
  async finish(
    target: JoinTarget,
    protection: { kdf: unknown; salt: Uint8Array; kek: Uint8Array },
  ): Promise<{ accountId: string; vaultId: Uint8Array }> {
    if (this.disposed) throw new HubClientError('pairing_closed', 'This pairing was closed; start again.');
    const approval = this.approval;
    const accountId = this.accountId;
    if (!approval || !accountId)
      throw new HubClientError('pairing_pending', 'The other device has not approved this one yet.');
    let vaultKey: Uint8Array | undefined;
    try {
      const opened = openPairingApproval(approval, {
        hub: this.client.hub,
        pairingId: this.pairing.pairing_id,
        deviceKey: this.signer.publicKey,
        boxPrivate: this.boxPrivate,
      });
      vaultKey = opened.vaultKey;
      if (opened.statement.account_id !== accountId)
        throw new HubClientError('hub_bad_response', 'The approval names another account.');
      // The signer must be a device of the account as its signed chain shows, not just any key the hub relays.
      const list = (await json(this.client, ListSchema, 'device list', 'GET', '/v1/devices')) as DeviceListResponse;
      const chain = verifyDeviceChain(list.devices, { hub: this.client.hub, accountId });
      if (
        ![...chain.values()].includes(opened.statement.added_by) ||
        chain.get(this.deviceKeyId) !== encodePublicKey(this.signer.publicKey)
      ) {
        throw new HubClientError('hub_bad_response', 'The approving device is not a device of this account.');
      }
      const vaultId = opened.vaultId;
      await target.join({
        vaultId,
        vaultKey,
        kdf: protection.kdf,
        salt: protection.salt,
        kek: protection.kek,
        deviceKey: { publicKey: this.signer.publicKey, pkcs8: this.pkcs8 },
      });
      vaultKey = undefined; // owned by the vault now
      return { accountId, vaultId };
    } finally {
      wipe(vaultKey, protection.kek);
      this.dispose();
    }
  }

  /** Forgets the private halves (the person cancelled, or the pairing expired). */
  dispose(): void {
    this.disposed = true;
    wipe(this.pkcs8, this.boxPrivate);
  }
}
