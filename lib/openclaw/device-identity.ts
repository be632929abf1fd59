/**
 * The Ed25519 device identity Clawkeep presents to an OpenClaw gateway (spec §1 "Device proof").
 *
 * Key storage choice: the private key is generated **non-extractable** and is never exported. It persists as the
 * `CryptoKey` object itself, which IndexedDB stores by structured clone (available in pages, MV3 service workers
 * and Node test doubles); the key material stays inside the browser's crypto implementation and survives worker
 * restarts. `chrome.storage` cannot hold a CryptoKey (JSON only), so the record must live in IndexedDB; callers
 * pass a small `DeviceIdentityStore` (e.g. idb-keyval `get`/`set` on a dedicated store). Losing the record means a
 * new device id and a new pairing approval on the gateway, which is the safe failure.
 */
import { toHex } from '../bytes';
import { OpenClawError } from './errors';
import { OPENCLAW_IDENTITY_DB } from '../storage/persisted-keys';

const ED25519 = { name: 'Ed25519' } as const;

export interface DeviceIdentity {
  /** Lowercase hex SHA-256 of the raw 32-byte public key. */
  deviceId: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKeyRaw: Uint8Array;
  /** `publicKeyRaw` in unpadded base64url (the `device.publicKey` field). */
  publicKeyBase64Url: string;
  /** Non-extractable signing key. */
  privateKey: CryptoKey;
}

/** The structured-clone record stored in IndexedDB. */
export interface DeviceIdentityRecord {
  v: 1;
  publicKeyRaw: Uint8Array;
  privateKey: CryptoKey;
}

/** What the identity needs from storage: IndexedDB-backed get/set of structured-clone values. */
export interface DeviceIdentityStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

export function base64UrlEncode(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function base64UrlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new OpenClawError('identity_invalid', 'Not base64url.');
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Lowercase hex SHA-256 of the raw 32-byte public key. */
export async function deviceIdOf(rawPublicKey: Uint8Array): Promise<string> {
  if (rawPublicKey.length !== 32) throw new OpenClawError('identity_invalid', 'An Ed25519 public key is 32 bytes.');
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', rawPublicKey as BufferSource)));
}

async function identityFrom(publicKeyRaw: Uint8Array, privateKey: CryptoKey): Promise<DeviceIdentity> {
  const raw = publicKeyRaw.slice();
  return { deviceId: await deviceIdOf(raw), publicKeyRaw: raw, publicKeyBase64Url: base64UrlEncode(raw), privateKey };
}

/** Makes a new identity. The private key is non-extractable; only the public half can be exported. */
export async function createDeviceIdentity(): Promise<DeviceIdentity> {
  const pair = await crypto.subtle.generateKey(ED25519, false, ['sign', 'verify']);
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return identityFrom(raw, pair.privateKey);
}

export function toRecord(identity: DeviceIdentity): DeviceIdentityRecord {
  return { v: 1, publicKeyRaw: identity.publicKeyRaw.slice(), privateKey: identity.privateKey };
}

/** Validates a stored record; throws `identity_invalid` if it is not one. */
export async function fromRecord(record: unknown): Promise<DeviceIdentity> {
  const r = record as Partial<DeviceIdentityRecord> | null;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    r.v === 1 &&
    r.publicKeyRaw instanceof Uint8Array &&
    r.publicKeyRaw.length === 32 &&
    typeof r.privateKey === 'object' &&
    r.privateKey !== null &&
    r.privateKey.type === 'private' &&
    r.privateKey.algorithm?.name === 'Ed25519' &&
    r.privateKey.usages.includes('sign');
  if (!ok)
    throw new OpenClawError(
      'identity_invalid',
      'The stored OpenClaw device identity is damaged; a new one must be paired.',
    );
  return identityFrom(r.publicKeyRaw as Uint8Array, r.privateKey as CryptoKey);
}

/** Loads the identity under `key`, or creates and stores a new one. A damaged record is replaced. */
export async function loadOrCreateDeviceIdentity(
  store: DeviceIdentityStore,
  key = OPENCLAW_IDENTITY_DB.key,
): Promise<DeviceIdentity> {
  const existing = await store.get(key);
  if (existing !== undefined && existing !== null) {
    try {
      return await fromRecord(existing);
    } catch {
      // fall through: replace a damaged record with a fresh identity (it will need pairing again)
    }
  }
  const identity = await createDeviceIdentity();
  await store.set(key, toRecord(identity));
  return identity;
}

export interface ConnectProofFields {
  deviceId: string;
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  /** The challenge `ts` (ms). */
  signedAt: number;
  /** `auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? ""`. */
  token: string;
  /** The challenge nonce. */
  nonce: string;
  platform?: string | null;
  deviceFamily?: string | null;
}

/** Trim, then lowercase ASCII A–Z only (non-ASCII letters are left as they are). */
export function normalizeProofField(value: string | null | undefined): string {
  return (value ?? '').trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The exact UTF-8 text the device signs: `v3|deviceId|clientId|mode|role|scopes|signedAt|token|nonce|platform|family`. */
export function connectProofPayload(f: ConnectProofFields): string {
  return [
    'v3',
    f.deviceId,
    f.clientId,
    f.clientMode,
    f.role,
    f.scopes.join(','),
    String(f.signedAt),
    f.token,
    f.nonce,
    normalizeProofField(f.platform),
    normalizeProofField(f.deviceFamily),
  ].join('|');
}

/** Signs the v3 connect proof; returns the base64url Ed25519 signature. */
export async function signConnectProof(identity: DeviceIdentity, fields: ConnectProofFields): Promise<string> {
  const message = new TextEncoder().encode(connectProofPayload(fields));
  return base64UrlEncode(new Uint8Array(await crypto.subtle.sign(ED25519, identity.privateKey, message)));
}
