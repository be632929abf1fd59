import { fromBase64 } from '../../bytes';
import { ARGON2_WASM_PLAIN, ARGON2_WASM_SHARED } from './argon2-wasm';

/** The exports of argon2.wat. */
export interface Argon2Fill {
  /** Fills one segment (RFC 9106 §3.4); see argon2.wat. */
  fill_segment(
    pass: number,
    lane: number,
    slice: number,
    lanes: number,
    laneLength: number,
    passes: number,
    scratch: number,
  ): void;
}

const compiled = new Map<boolean, Promise<WebAssembly.Module>>();

/** Compiles (once per realm) the variant for a shared or a plain memory; lane workers call it as they start. */
export function argon2Module(shared: boolean): Promise<WebAssembly.Module> {
  let module = compiled.get(shared);
  if (!module) {
    module = WebAssembly.compile(fromBase64(shared ? ARGON2_WASM_SHARED : ARGON2_WASM_PLAIN) as BufferSource);
    // A failed compile (e.g. a browser without wasm SIMD) is not cached, so the error is seen again, not a stale promise.
    module.catch(() => compiled.delete(shared));
    compiled.set(shared, module);
  }
  return module;
}

/** Instantiates the fill code on `memory` (shared for the parallel path, plain for the single path). */
export async function instantiateFill(memory: WebAssembly.Memory, shared: boolean): Promise<Argon2Fill> {
  const instance = await WebAssembly.instantiate(await argon2Module(shared), { env: { memory } });
  return instance.exports as unknown as Argon2Fill;
}
