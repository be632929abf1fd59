import { ClawkeepError } from '../errors';

/**
 * The human's device identity: an Ed25519 key pair made with WebCrypto. The private key is exported exactly once,
 * as PKCS#8, so it can be stored encrypted under the vault key; in memory it only ever exists as a
 * non-extractable CryptoKey, usable while the vault is unlocked.
 */
export interface DeviceSigner {
  /** Raw 32-byte Ed25519 public key: the account's identity on a hub. */
  publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

const ED25519 = { name: 'Ed25519' } as const;

/** Makes a new key pair; returns the signer plus the PKCS#8 bytes the caller must encrypt, store, then wipe. */
export async function generateDeviceKey(): Promise<{ signer: DeviceSigner; pkcs8: Uint8Array }> {
  const pair = await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify']);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  // Re-import so the key we keep cannot be exported again from memory.
  const signer = await importDeviceKey(pkcs8, new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
  return { signer, pkcs8 };
}

/** Loads a stored key as a non-extractable signer. Wipes nothing: the caller owns `pkcs8`. */
export async function importDeviceKey(pkcs8: Uint8Array, publicKey: Uint8Array): Promise<DeviceSigner> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('pkcs8', pkcs8 as BufferSource, ED25519, false, ['sign']);
  } catch (err) {
    throw new ClawkeepError('item_invalid', 'The stored device key could not be loaded.', { cause: err });
  }
  const pub = publicKey.slice();
  return {
    publicKey: pub,
    sign: async (message) => new Uint8Array(await crypto.subtle.sign(ED25519, key, message as BufferSource)),
  };
}

/** Stored form inside the vault envelope: public key + PKCS#8, so the public half is known without signing. */
export function encodeDeviceKeyRecord(publicKey: Uint8Array, pkcs8: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new RangeError('Ed25519 public key must be 32 bytes');
  const out = new Uint8Array(1 + 32 + pkcs8.length);
  out[0] = 1; // record version
  out.set(publicKey, 1);
  out.set(pkcs8, 33);
  return out;
}

export function decodeDeviceKeyRecord(bytes: Uint8Array): { publicKey: Uint8Array; pkcs8: Uint8Array } {
  if (bytes[0] !== 1 || bytes.length < 33 + 16)
    throw new ClawkeepError('item_invalid', 'The stored device key is damaged.');
  return { publicKey: bytes.slice(1, 33), pkcs8: bytes.slice(33) };
}
