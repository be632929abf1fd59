// @vitest-environment node
/**
 * libsodium's WebAssembly XChaCha20-Poly1305 opener (lib/crypto/aead-wasm.ts) against \@noble/ciphers: the same
 * plaintext for every box, the same DecryptError for every box that must not open, and no copy of the key or the
 * plaintext left in the module's memory.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import { aeadDecrypt, aeadEncrypt, aeadOpenWith, setAeadOpener, type AeadOpener } from '../../../lib/crypto/aead';
import { createWasmAeadOpener, loadWasmAead, WASM_AEAD_MAX_INPUT } from '../../../lib/crypto/aead-wasm';
import { DecryptError } from '../../../lib/errors';
import vectors from '../../vectors/xchacha20poly1305.json';
import { runs } from '../property/arbitraries';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

/** Opens with the opener alone: the plaintext (copied out), or false / undefined as the opener answered. */
function openWith(open: AeadOpener, key: Uint8Array, nonce: Uint8Array, ct: Uint8Array, aad: Uint8Array) {
  let out: Uint8Array | undefined;
  const answer = open(key, nonce, ct, aad, (p) => {
    out = p.slice();
  });
  return answer === true ? out! : answer;
}

/** Where `needle` first occurs in `haystack`, or -1. */
function find(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(Buffer.from(needle));
}

describe('libsodium XChaCha20-Poly1305 opener', () => {
  let open: AeadOpener;
  beforeAll(async () => {
    open = await createWasmAeadOpener();
  });
  afterEach(() => setAeadOpener(null));

  const v = vectors.vectors[0]!;
  const [key, nonce, aad] = [fromHex(v.key), fromHex(v.nonce), fromHex(v.aad)];

  it('opens draft-irtf-cfrg-xchacha-03 A.3.1', () => {
    const opened = openWith(open, key, nonce, fromHex(v.ciphertext), aad);
    expect(opened).toBeInstanceOf(Uint8Array);
    expect(toHex(opened as Uint8Array)).toBe(v.plaintext);
  });

  it('is installed by loadWasmAead and then opens what aeadDecrypt opens, with the same errors', async () => {
    expect(await loadWasmAead()).toBe(true);
    let viaOpener = 0;
    const counting: AeadOpener = (...args) => {
      const answer = open(...args);
      if (answer !== undefined) viaOpener++;
      return answer;
    };
    setAeadOpener(counting);
    expect(toHex(aeadDecrypt(key, nonce, fromHex(v.ciphertext), aad))).toBe(v.plaintext);
    const bad = fromHex(v.ciphertext);
    bad[3]! ^= 0x80;
    expect(() => aeadDecrypt(key, nonce, bad, aad)).toThrow(DecryptError);
    expect(viaOpener).toBe(2);
  });

  it('gives the plaintext @noble/ciphers gives, for any key, nonce, associated data and plaintext', () => {
    fc.assert(
      fc.property(bytes(32, 32), bytes(24, 24), bytes(0, 300), bytes(0, 2000), (k, n, ad, pt) => {
        const ct = xchacha20poly1305(k, n, ad).encrypt(pt);
        expect(toHex(ct)).toBe(toHex(aeadEncrypt(k, pt, ad, n).ciphertext));
        const opened = openWith(open, k, n, ct, ad);
        expect(opened).toBeInstanceOf(Uint8Array);
        expect(toHex(opened as Uint8Array)).toBe(toHex(xchacha20poly1305(k, n, ad).decrypt(ct)));
        setAeadOpener(open);
        expect(toHex(aeadDecrypt(k, n, ct, ad))).toBe(toHex(pt));
        setAeadOpener(null);
      }),
      runs(200),
    );
  });

  it('refuses any changed byte, other associated data or another key, and aeadDecrypt throws DecryptError alone', () => {
    const change = fc.record({
      k: bytes(32, 32),
      n: bytes(24, 24),
      ad: bytes(0, 64),
      pt: bytes(0, 300),
      what: fc.constantFrom('ciphertext', 'nonce', 'aad', 'key', 'aad-length'),
      at: fc.nat(),
      flip: fc.integer({ min: 1, max: 255 }),
    });
    fc.assert(
      fc.property(change, ({ k, n, ad, pt, what, at, flip }) => {
        const ct = xchacha20poly1305(k, n, ad).encrypt(pt);
        const [k2, n2, ad2, ct2] = [k.slice(), n.slice(), ad.slice(), ct.slice()];
        const target = { ciphertext: ct2, nonce: n2, aad: ad2, key: k2, 'aad-length': null }[what];
        let adUsed = ad2;
        if (target === null) adUsed = Uint8Array.of(...ad, flip);
        else if (target.length === 0)
          adUsed = Uint8Array.of(flip); // empty aad: "other" is a non-empty one
        else target[at % target.length]! ^= flip;
        expect(openWith(open, k2, n2, ct2, adUsed)).toBe(false);
        setAeadOpener(open);
        let error: unknown;
        try {
          aeadDecrypt(k2, n2, ct2, adUsed);
        } catch (err) {
          error = err;
        }
        setAeadOpener(null);
        expect(error).toBeInstanceOf(DecryptError);
        expect(error).toMatchObject({ code: 'decrypt_failed', message: new DecryptError().message });
      }),
      runs(300),
    );
  });

  it('leaves neither the key nor the plaintext in WebAssembly memory, opened or refused', () => {
    const k = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ i);
    const pt = Uint8Array.from({ length: 200 }, (_, i) => (i * 7 + 3) & 0xff);
    const ad = Uint8Array.of(1, 2, 3);
    const { nonce: n, ciphertext: ct } = aeadEncrypt(k, pt, ad);
    let heap: Uint8Array | undefined;
    let seen: Uint8Array | undefined;
    expect(
      open(k, n, ct, ad, (p) => {
        heap = new Uint8Array(p.buffer);
        seen = p;
        expect(find(heap, k)).toBeGreaterThanOrEqual(0); // it was there while the box was open
        expect(toHex(p)).toBe(toHex(pt));
      }),
    ).toBe(true);
    expect(find(heap!, k)).toBe(-1);
    expect(find(heap!, pt)).toBe(-1);
    expect(seen!.every((b) => b === 0)).toBe(true);
    const bad = ct.slice();
    bad[0]! ^= 1;
    expect(open(k, n, bad, ad, () => expect.unreachable())).toBe(false);
    expect(find(heap!, k)).toBe(-1);
  });

  it('hands an error of `use` to the caller and stays installed', () => {
    const { nonce: n, ciphertext: ct } = aeadEncrypt(key, Uint8Array.of(1, 2), aad);
    setAeadOpener(open);
    expect(() =>
      aeadOpenWith(key, n, ct, aad, () => {
        throw new RangeError('caller');
      }),
    ).toThrow(RangeError);
    let viaOpener = false;
    setAeadOpener((...args) => {
      const answer = open(...args);
      viaOpener = answer === true;
      return answer;
    });
    expect([...aeadOpenWith(key, n, ct, aad, (p) => p.slice())]).toEqual([1, 2]);
    expect(viaOpener).toBe(true);
  });

  it('leaves boxes larger than its region, and boxes opened while `use` runs, to @noble/ciphers', () => {
    const big = new Uint8Array(WASM_AEAD_MAX_INPUT).fill(7);
    const sealed = aeadEncrypt(key, big, aad);
    expect(open(key, sealed.nonce, sealed.ciphertext, aad, () => expect.unreachable())).toBeUndefined();
    setAeadOpener(open);
    expect(aeadDecrypt(key, sealed.nonce, sealed.ciphertext, aad)).toEqual(big);
    const inner = aeadEncrypt(key, Uint8Array.of(9), aad);
    const outer = aeadEncrypt(key, Uint8Array.of(8), aad);
    const both = aeadOpenWith(key, outer.nonce, outer.ciphertext, aad, (p) => [
      p[0],
      aeadOpenWith(key, inner.nonce, inner.ciphertext, aad, (q) => q[0]),
    ]);
    expect(both).toEqual([8, 9]);
  });

  it('is dropped for @noble/ciphers when it cannot run at all (a trap), without a wrong answer', () => {
    let calls = 0;
    setAeadOpener(() => {
      calls++;
      throw new WebAssembly.RuntimeError('unreachable');
    });
    expect(toHex(aeadDecrypt(key, nonce, fromHex(v.ciphertext), aad))).toBe(v.plaintext);
    const bad = fromHex(v.ciphertext);
    bad[0]! ^= 1;
    expect(() => aeadDecrypt(key, nonce, bad, aad)).toThrow(DecryptError);
    expect(calls).toBe(1);
  });
});
