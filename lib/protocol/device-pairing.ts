import { x25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, toHex, utf8Encode, wipe } from '../bytes';
import { aeadDecrypt, aeadEncrypt, NONCE_LENGTH, TAG_LENGTH } from '../crypto/aead';
import { fromBase64Url, toBase64Url } from './base64url';
import { deriveBoxKey } from './box-kdf';
import { canonicalBytes } from './canonical';
import { CLAIM_CODE_ALPHABET, CLAIM_CODE_LENGTH } from './claim-code';
import { ProtocolError } from './errors';
import { check, exactFields, isEpoch, isId, isOrigin, isSha256Hex } from './fields';
import { decodePublicKey, deviceKeyId, encodePublicKey } from './keys';
import type { SignedDeviceRemoval } from './revocation';
import { statementBytes, verifyStatement, type SignedStatement, type StatementFormat } from './signed-statement';

/**
 * Device pairing (issue 8): a new device joins an account and its vault. Three pieces:
 *
 * 1. The pairing code the new device shows (same alphabet and shape as claim codes, `XXXX-XXXX`, ~34.6 bits; the hub
 * ```text
 *    makes it and rate-limits lookups). The hub stores SHA-256("clawkeep/v1/pairing-code\0" ‖ normalized code).
 * ```
 *
 * 2. The sealed vault key, to the new device's X25519 box key ("CKPV" v1, same ECIES shape as CKSS/CKSC):
 *
 * ```text
 *      bytes     = "CKPV" | 0x01 | ephemeralPublic[32] | nonce[24] | XChaCha20-Poly1305 ciphertext + tag[16]
 *      key       = HKDF-SHA256(X25519(eph, recipient), salt = ephPub ‖ recipientPub, info = "clawkeep/v1/paired-vault-key")
 *      AD        = "CKPV" | 0x01 | canonicalBytes({hub, account_id, pairing_id, device_key})
 *      plaintext = vaultId[16] | vaultKey[32]
 * ```
 *
 * 3. The device-add statement, signed by an existing (approving) device of the account:
 *
 * ```text
 *      signed = "CKDA" | 0x01 | canonicalBytes({hub, account_id, device_key, box_key, added_by, pairing_id, sealed_sha256, time})
 * ```
 *
 * The hub knows the new device's box key, so it could seal a vault key of its own choosing to it; the signed
 * sealed_sha256 is what tells the new device that the approving device made this blob. The AD repeats the context so
 * a blob cannot be moved to another pairing, account or device. The chain of statements (each signed by a device
 * that is itself the enrolling key or added by a verified statement) lets any client check the device list the hub
 * serves back to the enrolling key, whose key id is the account id.
 */
export const PAIRED_KEY_TAG = 'CKPV';
export const PAIRED_KEY_VERSION = 1;
export const PAIRED_KEY_INFO = 'clawkeep/v1/paired-vault-key';
export const DEVICE_ADD_TAG = 'CKDA';
export const DEVICE_ADD_VERSION = 1;
export const PAIRED_VAULT_ID_LENGTH = 16;
const PLAINTEXT_LENGTH = PAIRED_VAULT_ID_LENGTH + 32;
const HEADER_LENGTH = 5 + 32 + NONCE_LENGTH;
/** Exact length: the plaintext has a fixed size. */
export const PAIRED_KEY_LENGTH = HEADER_LENGTH + PLAINTEXT_LENGTH + TAG_LENGTH;
const HEAD = Uint8Array.of(...[...PAIRED_KEY_TAG].map((c) => c.charCodeAt(0)), PAIRED_KEY_VERSION);
const INFO = utf8Encode(PAIRED_KEY_INFO);
const CODE_DOMAIN = utf8Encode('clawkeep/v1/pairing-code\0');

/** A fresh pairing code in display form, `XXXX-XXXX` (uniform over the claim-code alphabet). */
export function generatePairingCode(): string {
  let code = '';
  while (code.length < CLAIM_CODE_LENGTH) {
    for (const b of randomBytes(16)) {
      // 240 is the largest multiple of 20 below 256: rejection sampling keeps every letter equally likely.
      if (b < 240 && code.length < CLAIM_CODE_LENGTH) code += CLAIM_CODE_ALPHABET[b % 20];
    }
  }
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** Uppercase, without dashes and whitespace; null unless 8 letters of the alphabet remain. */
export function normalizePairingCode(input: unknown): string | null {
  const code = typeof input === 'string' ? input.replace(/[\s-]/g, '').toUpperCase() : '';
  return code.length === CLAIM_CODE_LENGTH && [...code].every((c) => CLAIM_CODE_ALPHABET.includes(c)) ? code : null;
}

/** SHA-256 of the domain and the normalized code: what the hub stores. Null for a malformed code. */
export function pairingCodeHash(input: unknown): Uint8Array | null {
  const code = normalizePairingCode(input);
  return code === null ? null : sha256(concatBytes(CODE_DOMAIN, utf8Encode(code)));
}

export interface PairingContext {
  hub: string;
  account_id: string;
  pairing_id: string;
  /** The new device's Ed25519 key, base64url. */
  device_key: string;
}

const sealedInvalid = (cause?: unknown) =>
  new ProtocolError(
    'sealed_invalid',
    'The sealed vault key does not open: it was changed, or is for another device or pairing.',
    cause === undefined ? undefined : { cause },
  );

function assertContext(context: PairingContext): PairingContext {
  let ok = !!context && isOrigin(context.hub) && isId(context.account_id) && isId(context.pairing_id);
  if (ok) {
    try {
      decodePublicKey(context.device_key, 'ed25519');
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new ProtocolError('sealed_invalid', 'Pairing context is malformed.');
  const { hub, account_id, pairing_id, device_key } = context;
  return { hub, account_id, pairing_id, device_key };
}

/** Associated data of a CKPV blob. @throws ProtocolError `sealed_invalid` for a malformed context. */
export function pairedKeyAssociatedData(context: PairingContext): Uint8Array {
  return concatBytes(HEAD, canonicalBytes(assertContext(context)));
}

export interface SealPairedKeyOptions {
  /** Fixed ephemeral X25519 private key, for vectors only. Copied, and the copy is wiped. */
  ephemeralPrivate?: Uint8Array;
  /** Fixed 24-byte nonce, for vectors only. */
  nonce?: Uint8Array;
}

/**
 * Seals a vault id and vault key to the new device's X25519 box key for one pairing. The caller wipes its inputs.
 * @throws ProtocolError `sealed_invalid` (malformed context, low-order box key); RangeError for bad lengths.
 */
export function sealPairedKey(
  boxKey: Uint8Array,
  vault: { vaultId: Uint8Array; vaultKey: Uint8Array },
  context: PairingContext,
  options: SealPairedKeyOptions = {},
): Uint8Array {
  if (!(boxKey instanceof Uint8Array) || boxKey.length !== 32) throw new RangeError('boxKey must be 32 bytes');
  if (vault.vaultId.length !== PAIRED_VAULT_ID_LENGTH || vault.vaultKey.length !== 32)
    throw new RangeError('vault id must be 16 bytes and vault key 32 bytes');
  if (options.ephemeralPrivate && options.ephemeralPrivate.length !== 32)
    throw new RangeError('ephemeralPrivate must be 32 bytes');
  const ad = pairedKeyAssociatedData(context);
  const ephemeralPrivate = options.ephemeralPrivate ? options.ephemeralPrivate.slice() : randomBytes(32);
  const plaintext = concatBytes(vault.vaultId, vault.vaultKey);
  let key: Uint8Array | undefined;
  try {
    const ephemeralPublic = x25519.getPublicKey(ephemeralPrivate);
    key = deriveBoxKey(ephemeralPrivate, boxKey, ephemeralPublic, boxKey, INFO, sealedInvalid);
    const { nonce, ciphertext } = aeadEncrypt(key, plaintext, ad, options.nonce);
    return concatBytes(HEAD, ephemeralPublic, nonce, ciphertext);
  } finally {
    wipe(ephemeralPrivate, key, plaintext);
  }
}

/** Whether `bytes` has the CKPV v1 shape (all the hub can check). */
export function isPairedKeyShape(bytes: Uint8Array): boolean {
  return bytes.length === PAIRED_KEY_LENGTH && HEAD.every((b, i) => bytes[i] === b);
}

/**
 * Opens a CKPV blob with the new device's box private key, for the context it expects. Every failure is one
 * `sealed_invalid`. The caller wipes the returned vault key.
 */
export function openPairedKey(
  boxPrivate: Uint8Array,
  bytes: Uint8Array,
  context: PairingContext,
): { vaultId: Uint8Array; vaultKey: Uint8Array } {
  if (!(boxPrivate instanceof Uint8Array) || boxPrivate.length !== 32)
    throw new RangeError('boxPrivate must be 32 bytes');
  const ad = pairedKeyAssociatedData(context);
  if (!(bytes instanceof Uint8Array) || !isPairedKeyShape(bytes)) throw sealedInvalid();
  const ephemeralPublic = bytes.subarray(5, 37);
  let key: Uint8Array | undefined;
  let plaintext: Uint8Array | undefined;
  try {
    const recipientPublic = x25519.getPublicKey(boxPrivate);
    key = deriveBoxKey(boxPrivate, ephemeralPublic, ephemeralPublic, recipientPublic, INFO, sealedInvalid);
    plaintext = aeadDecrypt(key, bytes.subarray(37, HEADER_LENGTH), bytes.subarray(HEADER_LENGTH), ad);
    return { vaultId: plaintext.slice(0, PAIRED_VAULT_ID_LENGTH), vaultKey: plaintext.slice(PAIRED_VAULT_ID_LENGTH) };
  } catch (err) {
    throw err instanceof ProtocolError ? err : sealedInvalid(err);
  } finally {
    wipe(key, plaintext);
  }
}

export interface DeviceAddStatement {
  hub: string;
  account_id: string;
  /** The added device's Ed25519 key, base64url. */
  device_key: string;
  /** The added device's X25519 box key the vault key was sealed to, base64url. */
  box_key: string;
  /** The approving device's Ed25519 key, base64url: the key this statement is signed with. */
  added_by: string;
  pairing_id: string;
  /** Lowercase hex SHA-256 of the CKPV bytes. */
  sealed_sha256: string;
  /** Epoch milliseconds on the approving device's clock. */
  time: number;
}

export type SignedDeviceAdd = SignedStatement<DeviceAddStatement>;

const STATEMENT_KEYS = [
  'account_id',
  'added_by',
  'box_key',
  'device_key',
  'hub',
  'pairing_id',
  'sealed_sha256',
  'time',
];

export const DEVICE_ADD_FORMAT: StatementFormat<DeviceAddStatement> = {
  tag: DEVICE_ADD_TAG,
  version: DEVICE_ADD_VERSION,
  code: 'device_statement_invalid',
  what: 'Device-add statement',
  validate(value) {
    const v = exactFields(value, STATEMENT_KEYS, 'device');
    check(isOrigin(v.hub), 'device.hub');
    check(isId(v.account_id), 'device.account_id');
    decodePublicKey(v.device_key as string, 'ed25519', 'device.device_key');
    decodePublicKey(v.box_key as string, 'x25519', 'device.box_key');
    decodePublicKey(v.added_by as string, 'ed25519', 'device.added_by');
    check(v.added_by !== v.device_key, 'device.added_by');
    check(isId(v.pairing_id), 'device.pairing_id');
    check(isSha256Hex(v.sealed_sha256), 'device.sealed_sha256');
    check(isEpoch(v.time), 'device.time');
    return {
      hub: v.hub as string,
      account_id: v.account_id as string,
      device_key: v.device_key as string,
      box_key: v.box_key as string,
      added_by: v.added_by as string,
      pairing_id: v.pairing_id as string,
      sealed_sha256: v.sealed_sha256 as string,
      time: v.time as number,
    };
  },
};

/** The exact bytes a device-add signature covers ("CKDA" | 0x01 | canonical statement). */
export const deviceAddBytes = (statement: DeviceAddStatement): Uint8Array =>
  statementBytes(DEVICE_ADD_FORMAT, DEVICE_ADD_FORMAT.validate(statement));

/** Checks shape and signature (by `added_by`) and that it names `expected`. @throws ProtocolError `device_statement_invalid`. */
export function verifyDeviceAdd(signed: unknown, expected: Partial<DeviceAddStatement>): DeviceAddStatement {
  const raw = (signed as { statement?: { added_by?: unknown } } | null)?.statement?.added_by;
  let signer: Uint8Array;
  try {
    signer = decodePublicKey(raw as string, 'ed25519');
  } catch (err) {
    throw new ProtocolError('device_statement_invalid', 'Device-add statement is malformed.', { cause: err });
  }
  return verifyStatement(DEVICE_ADD_FORMAT, signer, signed, expected);
}

/** What the approving device sends: POST /v1/pairings/:id/approve. */
export interface PairingApproval {
  device: SignedDeviceAdd;
  /** CKPV bytes, unpadded base64url. */
  sealed_vault_key: string;
}

export interface BuildPairingApprovalInput {
  hub: string;
  accountId: string;
  pairingId: string;
  /** The new device's keys, as the hub's lookup returned them (the person compared the fingerprint). */
  deviceKey: Uint8Array;
  boxKey: Uint8Array;
  /** The approving device's signer: its private key never leaves it. */
  signer: { publicKey: Uint8Array; sign(message: Uint8Array): Promise<Uint8Array> };
  /** Seals the vault key to the box key for this context (the keyholder does it: the raw key never crosses RPC). */
  seal(boxKey: Uint8Array, context: PairingContext): Promise<Uint8Array>;
  now: number;
}

export async function buildPairingApproval(input: BuildPairingApprovalInput): Promise<PairingApproval> {
  const context = assertContext({
    hub: input.hub,
    account_id: input.accountId,
    pairing_id: input.pairingId,
    device_key: encodePublicKey(input.deviceKey),
  });
  const sealed = await input.seal(input.boxKey, context);
  const statement: DeviceAddStatement = {
    ...context,
    box_key: encodePublicKey(input.boxKey),
    added_by: encodePublicKey(input.signer.publicKey),
    sealed_sha256: toHex(sha256(sealed)),
    time: input.now,
  };
  const signature = toBase64Url(await input.signer.sign(deviceAddBytes(statement)));
  return {
    device: { statement: DEVICE_ADD_FORMAT.validate(statement), signature },
    sealed_vault_key: toBase64Url(sealed),
  };
}

/**
 * On the new device: checks the approval names this hub, pairing and the device's own keys, that a device of the
 * account signed it, that the sealed bytes are the ones signed, then opens them. `trustedSigner` is the approving
 * device key the caller accepted (from a chain check, verifyDeviceChain). The caller wipes the vault key.
 * @throws ProtocolError `device_statement_invalid`, `sealed_invalid`.
 */
export function openPairingApproval(
  approval: unknown,
  expected: { hub: string; pairingId: string; deviceKey: Uint8Array; boxPrivate: Uint8Array },
): { statement: DeviceAddStatement; vaultId: Uint8Array; vaultKey: Uint8Array } {
  const a = approval as Partial<PairingApproval> | null;
  if (!a || typeof a !== 'object' || typeof a.sealed_vault_key !== 'string') throw sealedInvalid();
  const statement = verifyDeviceAdd(a.device, {
    hub: expected.hub,
    pairing_id: expected.pairingId,
    device_key: encodePublicKey(expected.deviceKey),
    box_key: encodePublicKey(x25519.getPublicKey(expected.boxPrivate)),
  });
  let sealed: Uint8Array;
  try {
    sealed = fromBase64Url(a.sealed_vault_key, 'sealed_vault_key');
  } catch (err) {
    throw sealedInvalid(err);
  }
  if (!isPairedKeyShape(sealed) || toHex(sha256(sealed)) !== statement.sealed_sha256) throw sealedInvalid();
  const { hub, account_id, pairing_id, device_key } = statement;
  return { statement, ...openPairedKey(expected.boxPrivate, sealed, { hub, account_id, pairing_id, device_key }) };
}

/** A device as GET /v1/devices lists it. */
export interface DeviceListEntry {
  device_key_id: string;
  device_key: string;
  name: string | null;
  added_at: number;
  /** The hub's word only: display, never trust (verifiedRemovals in device-removals.ts decides). */
  revoked_at: number | null;
  /** Null only for the enrolling device, whose key id is the account id. */
  statement: SignedDeviceAdd | null;
  /** The CKDR removal statement a device of the account signed, once removed (absent from older hubs). */
  removal?: SignedDeviceRemoval | null;
}

/**
 * Verifies the device list the hub serves: the enrolling device is the one whose key id is the account id; every
 * other device needs a statement for this hub and account, signed by a device already verified (any order in the
 * list). Returns the verified device keys (base64url) by key id; removed devices are verified too (their statements
 * stay valid history). Whether one was removed is verifiedRemovals' answer (a CKDR signed by a device of this
 * chain), never the hub's `revoked_at`. A device whose chain does not reach the enrolling key is refused.
 * @throws ProtocolError `device_statement_invalid` naming nothing secret.
 */
export function verifyDeviceChain(
  devices: readonly DeviceListEntry[],
  expected: { hub: string; accountId: string },
): Map<string, string> {
  const verified = new Map<string, string>();
  const root = devices.find((d) => d.device_key_id === expected.accountId);
  if (!root || root.statement !== null)
    throw new ProtocolError('device_statement_invalid', 'The device list has no enrolling device.');
  const rootKey = decodePublicKey(root.device_key, 'ed25519');
  if (deviceKeyId(rootKey) !== expected.accountId)
    throw new ProtocolError('device_statement_invalid', 'The enrolling device does not match the account.');
  verified.set(root.device_key_id, root.device_key);
  let pending = devices.filter((d) => d !== root);
  // Each pass verifies every device whose signer is already verified; a pass that adds nothing ends the walk.
  while (pending.length > 0) {
    const next: DeviceListEntry[] = [];
    for (const d of pending) {
      const signedBy = d.statement?.statement?.added_by;
      if (typeof signedBy !== 'string' || ![...verified.values()].includes(signedBy)) {
        next.push(d);
        continue;
      }
      const s = verifyDeviceAdd(d.statement, {
        hub: expected.hub,
        account_id: expected.accountId,
        device_key: d.device_key,
      });
      const key = decodePublicKey(s.device_key, 'ed25519');
      if (deviceKeyId(key) !== d.device_key_id)
        throw new ProtocolError('device_statement_invalid', 'A device key id does not match its key.');
      verified.set(d.device_key_id, d.device_key);
    }
    if (next.length === pending.length)
      throw new ProtocolError('device_statement_invalid', 'A device was not added by a device of this account.');
    pending = next;
  }
  return verified;
}

/**
 * The devices `trusted` vouches for: itself and every device it added, directly or through devices it added, by
 * CKDA statements for `hub`, leaving out the keys in `removed` (and what only they vouched for). What an agent uses
 * to accept an approval from another device of its human's account: only descendants of the device it pinned,
 * because the hub could sign a statement "adding" the pinned key to an account of its own, but it cannot sign as
 * the pinned device. Entries that do not verify are ignored (the hub serves the list; a broken entry must not stop
 * the devices that do verify). The hub's `revoked_at` is not looked at: `removed` holds the devices removed by a
 * verified CKDR (issue 13 item 9), so a hub can neither forge a removal nor undo one with it.
 * @param removed - device keys (base64url) removed by verified CKDR statements, including ones remembered earlier.
 */
export function devicesVouchedBy(
  trusted: Uint8Array,
  devices: readonly unknown[],
  hub: string,
  removed: ReadonlySet<string> = new Set(),
): Uint8Array[] {
  if (removed.has(encodePublicKey(trusted))) return [];
  const accepted = new Map<string, Uint8Array>([[encodePublicKey(trusted), trusted]]);
  const entries = devices.filter(
    (d): d is DeviceListEntry => !!d && typeof d === 'object' && !removed.has((d as DeviceListEntry).device_key),
  );
  let grew = true;
  while (grew) {
    grew = false;
    for (const d of entries) {
      const s = d.statement;
      if (!s || accepted.has(d.device_key) || !accepted.has(s.statement?.added_by)) continue;
      try {
        const verified = verifyDeviceAdd(s, { hub, device_key: d.device_key });
        accepted.set(verified.device_key, decodePublicKey(verified.device_key, 'ed25519'));
        grew = true;
      } catch {
        // not vouched for: skipped
      }
    }
  }
  return [...accepted.values()];
}
