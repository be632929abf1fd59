// @vitest-environment node
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import { fromBase64Url, fromBase64UrlFixed, toBase64Url } from '../../../lib/protocol/base64url';
import { decodePublicKey, encodePublicKey, fingerprint } from '../../../lib/protocol/keys';
import vectors from '../../vectors/protocol-statements.json';
import { expectCode } from './helpers';

describe('base64url', () => {
  it('round-trips every length and matches Node', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      const text = toBase64Url(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64url'));
      expect(toHex(fromBase64Url(text))).toBe(toHex(bytes));
    }
  });

  it('decodes strictly: no padding, no standard alphabet, no whitespace, no stray bits', async () => {
    for (const bad of ['AA==', 'A+8', 'A/8', 'AA AA', 'A', 'AB', 'AAB', '%%', 'ABCDE']) {
      await expectCode(() => fromBase64Url(bad), 'protocol_invalid');
    }
    expect(toHex(fromBase64Url('AA'))).toBe('00');
    await expectCode(() => fromBase64UrlFixed('AA', 2, 'x'), 'protocol_invalid');
  });
});

describe('public keys', () => {
  const { device, agentBox } = vectors.keys;

  it('encodes 32 bytes as 43 base64url characters and decodes strictly', async () => {
    const pub = ed25519.getPublicKey(fromHex(device.seed));
    expect(encodePublicKey(pub)).toBe(device.public);
    expect(toHex(decodePublicKey(device.public, 'ed25519'))).toBe(toHex(pub));
    expect(decodePublicKey(agentBox.public, 'x25519')).toHaveLength(32);
    await expectCode(() => decodePublicKey(device.public + 'A', 'ed25519'), 'protocol_invalid');
    await expectCode(() => decodePublicKey(device.public.slice(0, 42) + 'B', 'x25519'), 'protocol_invalid'); // stray low bits
    expect(() => encodePublicKey(new Uint8Array(31))).toThrow(RangeError);
  });

  it('refuses small-order and off-curve Ed25519 keys', async () => {
    const identity = new Uint8Array(32);
    identity[0] = 1; // the neutral point: every signature "verifies" under it
    await expectCode(() => decodePublicKey(toBase64Url(identity), 'ed25519'), 'protocol_invalid');
    // y = 2 is not on the curve (no x satisfies the equation), found by trying small y values.
    let offCurve: Uint8Array | undefined;
    for (let y = 2; y < 50 && !offCurve; y++) {
      const b = new Uint8Array(32);
      b[0] = y;
      try {
        ed25519.Point.fromBytes(b);
      } catch {
        offCurve = b;
      }
    }
    await expectCode(() => decodePublicKey(toBase64Url(offCurve!), 'ed25519'), 'protocol_invalid');
  });

  it('fingerprint = first 16 bytes of SHA-256(domain ‖ key) in four groups', () => {
    const key = decodePublicKey(device.public, 'ed25519');
    const hex = createHash('sha256').update('clawkeep/v1/fingerprint\0').update(key).digest('hex').slice(0, 32);
    expect(fingerprint(key)).toBe(hex.match(/.{8}/g)!.join('-'));
    expect(fingerprint(key)).toBe(device.fingerprint);
    expect(fingerprint(key)).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/);
  });
});
