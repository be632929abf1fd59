import { ed25519 } from '@noble/curves/ed25519.js';
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';
import { concatBytes } from '../../../lib/bytes';
import { toBase64Url } from '../../../lib/protocol/base64url';

/**
 * Raw keys as node:crypto key objects, for the "independent construction" tests: each sealed format's vectors are
 * rebuilt with Node's own X25519, HKDF and Ed25519 (OpenSSL), not with the noble libraries the formats use.
 */
export const nodeX25519Private = (raw: Uint8Array): KeyObject =>
  createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: toBase64Url(raw), x: '' }, format: 'jwk' });
export const nodeX25519Public = (raw: Uint8Array): KeyObject =>
  createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toBase64Url(raw) }, format: 'jwk' });
export const nodeEd25519Private = (seed: Uint8Array): KeyObject =>
  createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: toBase64Url(seed), x: toBase64Url(ed25519.getPublicKey(seed)) },
    format: 'jwk',
  });

/** The box key the sealed-box shape derives (sealed-box.ts), with node:crypto: X25519 then HKDF-SHA256. */
export function nodeBoxKey(
  ephemeralPrivate: Uint8Array,
  recipientPublic: Uint8Array,
  ephemeralPublic: Uint8Array,
  info: string,
): Uint8Array {
  const shared = diffieHellman({
    privateKey: nodeX25519Private(ephemeralPrivate),
    publicKey: nodeX25519Public(recipientPublic),
  });
  return new Uint8Array(hkdfSync('sha256', shared, concatBytes(ephemeralPublic, recipientPublic), info, 32));
}
