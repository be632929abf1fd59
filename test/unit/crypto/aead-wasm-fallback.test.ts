// @vitest-environment node
/**
 * Where libsodium's WebAssembly cannot load (a CSP without 'wasm-unsafe-eval', no WebAssembly), loadWasmAead says so
 * and every box is still opened, and refused, exactly as before by \@noble/ciphers.
 */
import { describe, expect, it, vi } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import { aeadDecrypt, aeadOpenWith } from '../../../lib/crypto/aead';
import { loadWasmAead } from '../../../lib/crypto/aead-wasm';
import { DecryptError } from '../../../lib/errors';
import vectors from '../../vectors/xchacha20poly1305.json';

vi.mock('libsodium', () => ({
  default: () =>
    Promise.reject(new WebAssembly.CompileError("WebAssembly.instantiate(): Refused to compile: 'wasm-unsafe-eval'")),
}));

describe('without libsodium', () => {
  it('resolves loadWasmAead to false and opens with @noble/ciphers', async () => {
    expect(await loadWasmAead()).toBe(false);
    const v = vectors.vectors[0]!;
    const [key, nonce, aad, ct] = [fromHex(v.key), fromHex(v.nonce), fromHex(v.aad), fromHex(v.ciphertext)];
    expect(toHex(aeadDecrypt(key, nonce, ct, aad))).toBe(v.plaintext);
    let seen: Uint8Array | undefined;
    expect(aeadOpenWith(key, nonce, ct, aad, (p) => ((seen = p), toHex(p)))).toBe(v.plaintext);
    expect(seen!.every((b) => b === 0)).toBe(true); // the plaintext handed to `use` is wiped after
    ct[ct.length - 1]! ^= 1;
    expect(() => aeadDecrypt(key, nonce, ct, aad)).toThrow(DecryptError);
  });
});
