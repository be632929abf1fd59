// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import { aeadDecrypt, aeadEncrypt } from '../../../lib/crypto/aead';
import { DecryptError } from '../../../lib/errors';
import vectors from '../../vectors/xchacha20poly1305.json';

describe('XChaCha20-Poly1305', () => {
  const v = vectors.vectors[0]!;
  const [key, nonce, aad, plaintext] = [fromHex(v.key), fromHex(v.nonce), fromHex(v.aad), fromHex(v.plaintext)];

  it('matches draft-irtf-cfrg-xchacha A.3.1', () => {
    expect(toHex(aeadEncrypt(key, plaintext, aad, nonce).ciphertext)).toBe(v.ciphertext);
    expect(toHex(aeadDecrypt(key, nonce, fromHex(v.ciphertext), aad))).toBe(v.plaintext);
  });

  it('rejects any flipped byte, other associated data, or another key with one error type', () => {
    const ct = fromHex(v.ciphertext);
    for (const i of [0, 50, ct.length - 1]) {
      const bad = ct.slice();
      bad[i]! ^= 1;
      expect(() => aeadDecrypt(key, nonce, bad, aad)).toThrow(DecryptError);
    }
    expect(() => aeadDecrypt(key, nonce, ct, new Uint8Array(0))).toThrow(DecryptError);
    expect(() => aeadDecrypt(new Uint8Array(32), nonce, ct, aad)).toThrow(DecryptError);
    expect(() => aeadDecrypt(key, nonce, ct.subarray(0, 10), aad)).toThrow(DecryptError);
  });

  it('picks a fresh random nonce each time', () => {
    const a = aeadEncrypt(key, plaintext, aad);
    const b = aeadEncrypt(key, plaintext, aad);
    expect(toHex(a.nonce)).not.toBe(toHex(b.nonce));
  });
});

describe('wipe', () => {
  it('zeroes a buffer and tolerates one already transferred to a worker (detached)', async () => {
    const { wipe } = await import('../../../lib/bytes');
    const live = Uint8Array.of(1, 2, 3);
    wipe(live);
    expect([...live]).toEqual([0, 0, 0]);
    const moved = Uint8Array.of(9, 9);
    structuredClone(moved.buffer, { transfer: [moved.buffer] });
    expect(() => wipe(moved, null, undefined)).not.toThrow();
  });
});
