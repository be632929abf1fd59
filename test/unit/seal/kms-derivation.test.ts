// @vitest-environment node
import { createPrivateKey, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import {
  deriveDhSecret,
  deriveEnvKeyPair,
  deriveP256Scalar,
  p256Pkcs8Der,
  P256_PKCS8_BYTES,
} from '../../../lib/seal/kms-derivation';

// test/fixtures/sealing/kdf.json: upstream's own vector (dstack ra-tls kdf.rs) and the env key of a synthetic app.
interface KdfVector {
  name: string;
  root_key_pkcs8_der: string;
  root_scalar?: string;
  app_id?: string;
  context_parts_hex: string[];
  derived_p256_scalar: string;
  derived_p256_pkcs8_der: string;
  dh_secret?: string;
  env_x25519_private?: string;
  env_x25519_public?: string;
}
const { vectors } = JSON.parse(readFileSync(resolve(process.cwd(), 'test/fixtures/sealing/kdf.json'), 'utf8')) as {
  vectors: KdfVector[];
};
const official = vectors.find((v) => v.name === 'official-derive-dh-secret')!;
const forApp = vectors.find((v) => v.name === 'env-encrypt-key-for-app')!;

/** The root scalar read out of the root key's PKCS#8 with node:crypto (JWK "d"), independent of our template. */
const rootScalarOf = (v: KdfVector): Uint8Array =>
  new Uint8Array(
    Buffer.from(
      createPrivateKey({ key: Buffer.from(v.root_key_pkcs8_der, 'hex'), format: 'der', type: 'pkcs8' }).export({
        format: 'jwk',
      }).d!,
      'base64url',
    ),
  );

describe('KMS env key derivation (kdf.json)', () => {
  it('reads the same root scalar as the vector states', () => {
    expect(toHex(rootScalarOf(official))).toBe(official.root_scalar);
  });

  for (const v of [official, forApp]) {
    it(`${v.name}: scalar, 138-byte PKCS#8 DER byte for byte`, () => {
      const scalar = deriveP256Scalar(rootScalarOf(v), v.context_parts_hex.map(fromHex));
      expect(toHex(scalar)).toBe(v.derived_p256_scalar);
      // node:crypto's HKDF agrees (an independent implementation of the first step).
      const reference = hkdfSync(
        'sha256',
        rootScalarOf(v),
        'RATLS',
        Buffer.concat(v.context_parts_hex.map((h) => Buffer.from(h, 'hex'))),
        32,
      );
      expect(toHex(new Uint8Array(reference))).toBe(v.derived_p256_scalar);
      const der = p256Pkcs8Der(scalar);
      expect(der.length).toBe(P256_PKCS8_BYTES);
      expect(toHex(der)).toBe(v.derived_p256_pkcs8_der);
    });
  }

  it('official-derive-dh-secret: the upstream expected secret', () => {
    expect(toHex(deriveDhSecret(rootScalarOf(official), official.context_parts_hex.map(fromHex)))).toBe(
      official.dh_secret,
    );
  });

  it('env-encrypt-key-for-app: the app’s X25519 key pair (app id as hex or bytes)', () => {
    for (const appId of [forApp.app_id!, fromHex(forApp.app_id!), forApp.app_id!.toUpperCase()]) {
      const pair = deriveEnvKeyPair(rootScalarOf(forApp), appId);
      expect(toHex(pair.privateKey)).toBe(forApp.env_x25519_private);
      expect(toHex(pair.publicKey)).toBe(forApp.env_x25519_public);
    }
    // Another app id gets another key.
    expect(toHex(deriveEnvKeyPair(rootScalarOf(forApp), '00'.repeat(20)).publicKey)).not.toBe(forApp.env_x25519_public);
  });

  it('refuses malformed inputs', () => {
    const root = rootScalarOf(forApp);
    for (const appId of ['00'.repeat(19), 'zz'.repeat(20), new Uint8Array(21)]) {
      expect(() => deriveEnvKeyPair(root, appId)).toThrow(expect.objectContaining({ code: 'derivation_invalid' }));
    }
    for (const bad of [new Uint8Array(32), new Uint8Array(31).fill(1), new Uint8Array(32).fill(0xff)]) {
      expect(() => deriveEnvKeyPair(bad, forApp.app_id!)).toThrow(
        expect.objectContaining({ code: 'derivation_invalid' }),
      );
    }
  });
});
