import * as v from 'valibot';
import type { DeviceListEntry, PairingApproval } from './device-pairing';
import type { SignedKeyBinding } from './key-binding';
import { BoxKeySchema, SigningKeySchema } from './wire';

/**
 * Wire shapes of device pairing (docs/protocol.md §Devices and pairing). Statements are checked by
 * verifyDeviceAdd, not by the schema, so a bad statement answers `device_statement_invalid`, not `protocol_invalid`.
 */
const NameSchema = v.nullable(
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(64),
    // eslint-disable-next-line no-control-regex -- matching control characters is the point: a device name may hold none
    v.check((s) => !/[\u0000-\u001f\u007f]/.test(s), 'control character'),
  ),
);

/** POST /v1/pairings (signed by the new device's own key, which is not on the hub yet). */
export const PairingCreateRequestSchema = v.strictObject({
  device_key: SigningKeySchema,
  box_key: BoxKeySchema,
  name: NameSchema,
  /** CKKB signed by device_key over `{hub, role: device, signing_key, box_key, name, time}`; checked by verifyKeyBinding. */
  key_binding: v.optional(v.unknown()),
});
export interface PairingCreateResponse {
  pairing_id: string;
  /** Display form `XXXX-XXXX`: shown on the new device, typed on the approving one. Only its hash is stored. */
  code: string;
  fingerprint: string;
  expires_at: number;
}

/** POST /v1/pairings/lookup (a device of the account). */
export const PairingLookupRequestSchema = v.strictObject({ code: v.pipe(v.string(), v.maxLength(32)) });
export interface PairingLookupResponse {
  pairing_id: string;
  device_key: string;
  box_key: string;
  fingerprint: string;
  name: string | null;
  expires_at: number;
  /** The new device's CKKB key binding (null for a pairing made before bindings): the approver verifies it. */
  key_binding: SignedKeyBinding | null;
}

/** POST /v1/pairings/:id/approve (a device of the account). */
export const PairingApproveRequestSchema = v.strictObject({
  device: v.unknown(),
  sealed_vault_key: v.pipe(v.string(), v.maxLength(256)),
});
export interface PairingApproveResponse {
  device_key_id: string;
  fingerprint: string;
  added_at: number;
}

/** GET /v1/pairings/:id (signed by the new device's key). `approval` only once approved. */
export interface PairingStatusResponse {
  pairing_id: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  expires_at: number;
  account_id: string | null;
  approval: PairingApproval | null;
}

/** GET /v1/devices. */
export interface DeviceListResponse {
  account_id: string;
  devices: DeviceListEntry[];
}

/** DELETE /v1/devices/:id body: the CKDR the removing device signed (checked by verifyDeviceRemoval). */
export const RemoveDeviceRequestSchema = v.strictObject({ removal: v.unknown() });

/** DELETE /v1/devices/:id. */
export interface DeviceRemoveResponse {
  device_key_id: string;
  revoked_at: number;
}
