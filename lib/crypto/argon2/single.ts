import { finalTag, type Argon2idInput, checkArgon2idInput, writeFirstBlocks } from './argon2-hash';
import { argon2Shape, memoryPages, SCRATCH_OFFSET } from './layout';
import { instantiateFill } from './wasm';

/**
 * Argon2id on the calling thread: every segment in order, lanes one after the other within each slice (RFC 9106
 * §3.4 allows any order inside a slice). This is the path where threads are unavailable (no cross-origin
 * isolation, so no SharedArrayBuffer), and Node's. The memory is zeroed before returning: its blocks derive from the
 * password.
 * @throws RangeError for inputs RFC 9106 §3.1 rejects; a RangeError from WebAssembly.Memory when memory is short
 */
export async function argon2idSingle(input: Argon2idInput): Promise<Uint8Array> {
  checkArgon2idInput(input);
  const shape = argon2Shape(input.memoryKiB, input.parallelism, input.iterations);
  const pages = memoryPages(shape);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const bytes = new Uint8Array(memory.buffer);
  try {
    const fill = await instantiateFill(memory, false);
    writeFirstBlocks(bytes, shape, input);
    for (let pass = 0; pass < shape.passes; pass++) {
      for (let slice = 0; slice < 4; slice++) {
        for (let lane = 0; lane < shape.lanes; lane++) {
          fill.fill_segment(pass, lane, slice, shape.lanes, shape.laneLength, shape.passes, SCRATCH_OFFSET);
        }
      }
    }
    return finalTag(bytes, shape, input.tagLength);
  } finally {
    bytes.fill(0);
  }
}
