// The parts of libsodium.js's raw Emscripten module (npm `libsodium`, which ships no types) that aead-wasm.ts uses.
// Pointers and lengths are wasm32 numbers; an `unsigned long long` argument is passed as two 32-bit halves (low,
// high) because the build does not use WASM_BIGINT.
declare module 'libsodium' {
  export interface LibsodiumModule {
    /** The module's linear memory; replaced when the memory grows (after `_malloc`), so read it after allocating. */
    readonly HEAPU8: Uint8Array;
    _malloc(size: number): number;
    _free(ptr: number): void;
    _sodium_init(): number;
    /** crypto_aead_xchacha20poly1305_ietf_decrypt(m, mlen_p, nsec, c, clen, ad, adlen, npub, k): 0 or -1. */
    _crypto_aead_xchacha20poly1305_ietf_decrypt(
      m: number,
      mlenP: number,
      nsec: number,
      c: number,
      clenLow: number,
      clenHigh: number,
      ad: number,
      adlenLow: number,
      adlenHigh: number,
      npub: number,
      k: number,
    ): number;
  }
  /** Instantiates the embedded WebAssembly (asynchronously) and resolves to the module. */
  export default function loadLibsodium(moduleArg?: { getRandomValue?: () => number }): Promise<LibsodiumModule>;
}
