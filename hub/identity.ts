import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { encodePublicKey, fingerprint } from '../lib/protocol/keys';

/**
 * The hub's own Ed25519 identity key (docs/protocol.md §11). Devices and agents pin its public half at enrolment /
 * registration and refuse a hub at the same URL that cannot prove it holds the private half (a squatter on the port
 * after the real hub stopped); the hub also signs its audit head (CKAH) with it.
 *
 * Where it lives, and why a file and not the database: `hub-identity.key` in the data directory, owner-only (0600),
 * next to hub.sqlite. The database holds public data only (hub/store/migrations.ts) and is what gets copied, backed
 * up and opened by `clawkeep audit verify`; a private key there would travel with every copy. A separate file can be
 * kept out of backups and is never read by anything but the hub process. It is never logged or sent: only
 * `publicKey` leaves this module.
 *
 *   file = "CKHK" | 0x01 | Ed25519 seed[32]      (37 bytes; anything else is refused, never silently replaced)
 */
export interface HubIdentity {
  /** The 32-byte Ed25519 seed. Used only to sign CKHI proofs and CKAH heads. */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** base64url of publicKey, as it travels. */
  readonly hubKey: string;
  /** fingerprint(publicKey), what a person compares. */
  readonly fingerprint: string;
}

export const IDENTITY_FILE = 'hub-identity.key';
const TAG = 'CKHK';
const VERSION = 1;
const FILE_LENGTH = 5 + 32;

/** The identity of a known seed (tests inject fixed keys through this). */
export function hubIdentityFromSeed(seed: Uint8Array): HubIdentity {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new RangeError('hub identity: the seed must be 32 bytes');
  const privateKey = Uint8Array.from(seed);
  const publicKey = ed25519.getPublicKey(privateKey);
  return { privateKey, publicKey, hubKey: encodePublicKey(publicKey), fingerprint: fingerprint(publicKey) };
}

/** A fresh random identity (an in-memory hub; startHub loads or creates the file instead). */
export function generateHubIdentity(): HubIdentity {
  return hubIdentityFromSeed(ed25519.utils.randomSecretKey());
}

/** The bytes of the key file. */
export function encodeIdentityFile(identity: HubIdentity): Uint8Array {
  const out = new Uint8Array(FILE_LENGTH);
  for (let i = 0; i < 4; i++) out[i] = TAG.charCodeAt(i);
  out[4] = VERSION;
  out.set(identity.privateKey, 5);
  return out;
}

/** Strict parse of the key file. @throws Error naming the file problem (never the key bytes) */
export function decodeIdentityFile(bytes: Uint8Array): HubIdentity {
  if (bytes.length !== FILE_LENGTH) throw new Error(`the hub identity file must be ${FILE_LENGTH} bytes`);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== TAG) throw new Error('the hub identity file has the wrong tag');
  if (bytes[4] !== VERSION) throw new Error(`the hub identity file has unsupported version ${bytes[4]}`);
  return hubIdentityFromSeed(bytes.subarray(5));
}

/**
 * Reads `dataDir`/hub-identity.key, or on the hub's first start creates it (0600, written to a temporary file and
 * renamed, so a crash never leaves half a key). A file that exists but does not parse is an error: replacing it
 * would silently give the hub a new identity that every enrolled device then refuses.
 * @throws Error when the file is unreadable, malformed, or not a regular file
 */
export function loadOrCreateHubIdentity(dataDir: string): HubIdentity {
  const file = path.join(dataDir, IDENTITY_FILE);
  if (existsSync(file)) {
    const stat = lstatSync(file);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0)
      throw new Error(`${file} must be readable by its owner only (chmod 600)`);
    try {
      return decodeIdentityFile(new Uint8Array(readFileSync(file)));
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  const identity = generateHubIdentity();
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, encodeIdentityFile(identity));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
  return identity;
}
