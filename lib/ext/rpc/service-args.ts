import * as v from 'valibot';
import type { KdfParams } from '../../crypto/kdf-params';

/**
 * Argument schemas several service declarations share. They check what the boundary can check (types and shapes);
 * the domain rules (KDF floors and ceilings, item fields, policy limits) stay with the code that owns them, which
 * the web vault calls directly too, so a person sees the same message whichever way the call came.
 */

/** Bytes (they cross as base64, wire.ts, and arrive here as a Uint8Array again). */
export const bytesArg: v.GenericSchema<Uint8Array, Uint8Array> = v.instance(Uint8Array);

/** KDF parameters, shape only (assertKdfParams applies the floors and ceilings, lib/crypto/kdf-params.ts). */
export const kdfParamsArg: v.GenericSchema<unknown, KdfParams> = v.variant('algorithm', [
  v.object({
    algorithm: v.literal('argon2id'),
    memoryKiB: v.number(),
    iterations: v.number(),
    parallelism: v.number(),
  }),
  v.object({ algorithm: v.literal('pbkdf2-sha256'), iterations: v.number() }),
]);

/** A plain object whose fields the receiving service validates itself (`label` says what it must be). */
export function objectArg<T>(label: string): v.GenericSchema<unknown, T> {
  return v.custom<T>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), label);
}
