import { concatBytes, toHex } from '../bytes';
import { ecdsaDerToRaw } from './der';
import { AttestError, type AttestErrorCode } from './errors';

/**
 * ECDSA P-256 / SHA-256 verification through WebCrypto (native in browsers, workers and Node). Imported keys are
 * cached by their bytes: the same Intel CA and TCB-signing keys appear in every verification.
 */
const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const VERIFY = { name: 'ECDSA', hash: 'SHA-256' } as const;
const KEY_CACHE_MAX = 64;
const keyCache = new Map<string, Promise<CryptoKey>>();

function cached(id: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = keyCache.get(id);
  if (!key) {
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
    key = load();
    keyCache.set(id, key);
    // A key that failed to import must not stay cached as a rejected promise.
    key.catch(() => keyCache.delete(id));
  }
  return key;
}

const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

export function importSpki(spki: Uint8Array, code: AttestErrorCode, what: string): Promise<CryptoKey> {
  return cached(`spki:${toHex(spki)}`, () => crypto.subtle.importKey('spki', buf(spki), ALG, false, ['verify'])).catch(
    () => {
      throw new AttestError(code, `${what}: the public key is not a valid P-256 key.`);
    },
  );
}

/** Raw X‖Y (64 bytes, as in quotes) → key. */
export function importRawXY(xy: Uint8Array, code: AttestErrorCode, what: string): Promise<CryptoKey> {
  return cached(`raw:${toHex(xy)}`, () =>
    crypto.subtle.importKey('raw', buf(concatBytes(Uint8Array.of(4), xy)), ALG, false, ['verify']),
  ).catch(() => {
    throw new AttestError(code, `${what}: the public key is not a point on P-256.`);
  });
}

/** Verifies a raw r‖s signature; false on a bad signature, never throws for one. */
export async function verifyRaw(key: CryptoKey, rawSig: Uint8Array, data: Uint8Array): Promise<boolean> {
  if (rawSig.length !== 64) return false;
  return crypto.subtle.verify(VERIFY, key, buf(rawSig), buf(data));
}

/** Verifies a DER ECDSA-Sig-Value (X.509 / CRL signatures). */
export async function verifyDer(
  key: CryptoKey,
  derSig: Uint8Array,
  data: Uint8Array,
  code: AttestErrorCode,
): Promise<boolean> {
  return verifyRaw(key, ecdsaDerToRaw(derSig, code), data);
}
