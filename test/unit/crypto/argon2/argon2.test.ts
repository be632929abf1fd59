// @vitest-environment node
// Our Argon2id (lib/crypto/argon2: RFC 9106 v0x13, wasm SIMD) on both paths, against RFC 9106 §5.3, the reference
// CLI (Debian `argon2`, run live here and recorded in test/vectors/argon2id.json) and @noble/hashes' pure-JS Argon2id.
// The parallel path runs for real: worker_threads lane workers over one shared WebAssembly.Memory, as the extension's
// lane workers do with Web Workers.
import { execFileSync } from 'node:child_process';
import { argon2id as nobleArgon2id } from '@noble/hashes/argon2.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../../../lib/bytes';
import {
  argon2id,
  laneThreads,
  LaneWorkerPool,
  type Argon2idInput,
  type LanePort,
} from '../../../../lib/crypto/argon2';
import { argon2idParallel } from '../../../../lib/crypto/argon2/parallel';
import { argon2idSingle } from '../../../../lib/crypto/argon2/single';
import { deriveKeyWithPath } from '../../../../lib/crypto/kdf';
import argonVectors from '../../../vectors/argon2id.json';
import { LANE_WORKER, nodeLanePort } from './node-lanes';

const pools: LaneWorkerPool[] = [];
function pool(size: number, script = LANE_WORKER, budgetMs?: () => number): LaneWorkerPool {
  const p = new LaneWorkerPool(() => nodeLanePort(script), size, budgetMs ? { budgetMs } : {});
  pools.push(p);
  return p;
}
afterAll(() => pools.forEach((p) => p.dispose()));

const twoThreads = pool(2);
const fourThreads = pool(4);

/** Starts a pool's lane workers and waits until they said 'ready' (argon2id() sends work only to ready ones). */
async function started(lanes: LaneWorkerPool, count = 4): Promise<void> {
  lanes.prestart(count);
  await vi.waitFor(() => expect(lanes.isReady(count)).toBe(true), { timeout: 30_000, interval: 20 });
}

beforeAll(async () => {
  await Promise.all([started(twoThreads), started(fourThreads)]);
}, 60_000);

const noble = (input: Argon2idInput): string =>
  toHex(
    nobleArgon2id(input.password, input.salt, {
      t: input.iterations,
      m: input.memoryKiB,
      p: input.parallelism,
      dkLen: input.tagLength,
      ...(input.secret && { key: input.secret }),
      ...(input.associatedData && { personalization: input.associatedData }),
    }),
  );

/** The reference CLI: `argon2 SALT -id -t T -k M -p P -l L -r`, password on stdin. */
function cli(password: string, salt: string, t: number, m: number, p: number, length: number): string {
  return execFileSync(
    'argon2',
    [salt, '-id', '-t', String(t), '-k', String(m), '-p', String(p), '-l', String(length), '-r'],
    { input: password },
  )
    .toString()
    .trim();
}

/** Test vector `i` and the KDF params it was made with. */
function vectorParams(i: number) {
  const v = argonVectors.vectors[i]!;
  const params = {
    algorithm: 'argon2id' as const,
    memoryKiB: v.memoryKiB,
    iterations: v.iterations,
    parallelism: v.parallelism,
  };
  return { v, params };
}

describe('RFC 9106 §5.3 Argon2id vector (secret and associated data)', () => {
  const v = argonVectors.rfc9106;
  const input: Argon2idInput = {
    password: fromHex(v.password),
    salt: fromHex(v.salt),
    secret: fromHex(v.secret),
    associatedData: fromHex(v.associatedData),
    memoryKiB: v.memoryKiB,
    iterations: v.iterations,
    parallelism: v.parallelism,
    tagLength: 32,
  };

  it('single path', async () => {
    expect(toHex(await argon2idSingle(input))).toBe(v.tag);
  });

  it.each([
    ['2 lane workers', twoThreads],
    ['4 lane workers', fourThreads],
  ])('parallel path, %s', async (_, lanes) => {
    expect(toHex(await argon2idParallel(input, lanes))).toBe(v.tag);
  });
});

describe('the reference CLI vectors of test/vectors/argon2id.json', () => {
  it.each(argonVectors.vectors)('m=$memoryKiB t=$iterations p=$parallelism, both paths', async (v) => {
    const input: Argon2idInput = {
      password: fromHex(v.password),
      salt: fromHex(v.salt),
      memoryKiB: v.memoryKiB,
      iterations: v.iterations,
      parallelism: v.parallelism,
      tagLength: 32,
    };
    const single = await argon2id(input);
    const parallel = await argon2id(input, twoThreads);
    expect(single).toEqual({ tag: fromHex(v.tag), path: 'single' });
    // One lane has nothing to share out: it runs on the single path even with lane workers at hand.
    expect(parallel).toEqual({ tag: fromHex(v.tag), path: v.parallelism >= 2 ? 'parallel' : 'single' });
  });
});

describe('live cross-check with the argon2 CLI and @noble/hashes', () => {
  // Shapes chosen to reach every branch of the fill: m not a multiple of 4p (m' < m), more lanes than workers, an odd
  // number of lanes, segments longer than one address block (128), 1 and 3+ passes, tags of <=64 and >64 bytes (H').
  const cases = [
    { m: 64, t: 1, p: 1, length: 32 },
    { m: 100, t: 2, p: 3, length: 4 },
    { m: 256, t: 3, p: 5, length: 64 },
    { m: 4096, t: 2, p: 2, length: 65 },
    { m: 2056, t: 1, p: 4, length: 100 },
    { m: 512, t: 4, p: 16, length: 32 },
    { m: 3000, t: 3, p: 7, length: 1024 },
  ];
  it.each(cases)('m=$m t=$t p=$p T=$length', async ({ m, t, p, length }) => {
    const password = `pw-${m}-${t}-${p}`;
    const salt = `salt-for-${m}-${p}`;
    const input: Argon2idInput = {
      password: utf8Encode(password),
      salt: utf8Encode(salt),
      memoryKiB: m,
      iterations: t,
      parallelism: p,
      tagLength: length,
    };
    const expected = cli(password, salt, t, m, p, length);
    expect(noble(input)).toBe(expected);
    expect(toHex(await argon2idSingle(input))).toBe(expected);
    expect(toHex(await argon2idParallel(input, twoThreads))).toBe(expected);
    expect(toHex(await argon2idParallel(input, fourThreads))).toBe(expected);
  });
});

describe('property: both paths equal @noble/hashes on random inputs', () => {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
  const inputs = fc
    .record({
      password: bytes(0, 80),
      salt: bytes(8, 40),
      secret: fc.option(bytes(1, 40), { nil: undefined }),
      associatedData: fc.option(bytes(1, 40), { nil: undefined }),
      parallelism: fc.integer({ min: 1, max: 6 }),
      iterations: fc.integer({ min: 1, max: 3 }),
      extraKiB: fc.integer({ min: 0, max: 300 }),
      tagLength: fc.integer({ min: 4, max: 200 }),
    })
    .map(({ extraKiB, ...r }): Argon2idInput => ({ ...r, memoryKiB: 8 * r.parallelism + extraKiB }));

  it('single path', async () => {
    await fc.assert(
      fc.asyncProperty(inputs, async (input) => {
        expect(toHex(await argon2idSingle(input))).toBe(noble(input));
      }),
      { numRuns: 40 },
    );
  });

  it('parallel path', async () => {
    await fc.assert(
      fc.asyncProperty(inputs, async (input) => {
        expect(toHex(await argon2idParallel(input, twoThreads))).toBe(noble(input));
      }),
      { numRuns: 20 },
    );
  });
});

describe('which path runs', () => {
  const isolated = {
    crossOriginIsolated: true,
    SharedArrayBuffer,
    Atomics,
    Worker: class {},
    navigator: { hardwareConcurrency: 2 },
  };

  it('lane workers only in a cross-origin-isolated scope with SharedArrayBuffer, Atomics.wait and Worker', () => {
    expect(laneThreads(isolated)).toBe(2);
    expect(laneThreads({ ...isolated, navigator: { hardwareConcurrency: 64 } })).toBe(16);
    expect(laneThreads({ ...isolated, navigator: { hardwareConcurrency: 1 } })).toBe(1);
    // The web vault without COOP/COEP, Firefox's extension pages:
    expect(laneThreads({ ...isolated, crossOriginIsolated: false })).toBe(1);
    expect(laneThreads({ ...isolated, SharedArrayBuffer: undefined })).toBe(1);
    // A page's main thread (Atomics.wait throws there, so the fill runs in workers only):
    expect(laneThreads({ ...isolated, Atomics: {} })).toBe(1);
    expect(laneThreads({ ...isolated, Worker: undefined })).toBe(1);
  });

  it('lane workers that have not started yet: this call on the single path, the next in parallel (same bytes)', async () => {
    const fresh = pool(2);
    const input: Argon2idInput = {
      password: utf8Encode('pw'),
      salt: utf8Encode('0123456789abcdef'),
      memoryKiB: 256,
      iterations: 2,
      parallelism: 4,
      tagLength: 32,
    };
    const first = await argon2id(input, fresh);
    expect(first.path).toBe('single');
    // The first call started them (prestart): once they said 'ready', the work goes to them.
    await vi.waitFor(() => expect(fresh.isReady(4)).toBe(true), { timeout: 30_000, interval: 20 });
    const second = await argon2id(input, fresh);
    expect(second).toEqual({ tag: first.tag, path: 'parallel' });
    expect(toHex(first.tag)).toBe(noble(input));
  });

  it('deriveKeyWithPath says which path ran and gives the same key on both', async () => {
    const { v, params } = vectorParams(2);
    const parallel = await deriveKeyWithPath(fromHex(v.password), fromHex(v.salt), params, twoThreads);
    const single = await deriveKeyWithPath(fromHex(v.password), fromHex(v.salt), params);
    expect(parallel).toEqual({ key: fromHex(v.tag), path: 'parallel' });
    expect(single).toEqual({ key: fromHex(v.tag), path: 'single' });
  });
});

describe('memory and failures', () => {
  const input: Argon2idInput = {
    password: utf8Encode('correct horse battery staple'),
    salt: utf8Encode('0123456789abcdef'),
    memoryKiB: 1024,
    iterations: 2,
    parallelism: 4,
    tagLength: 32,
  };

  it('the shared memory is zeroed after a parallel fill (its blocks derive from the password)', async () => {
    const seen: WebAssembly.Memory[] = [];
    const watching = new LaneWorkerPool(() => {
      const port = nodeLanePort(LANE_WORKER);
      return { ...port, post: (job) => (seen.push(job.memory), port.post(job)) };
    }, 2);
    pools.push(watching);
    expect(toHex(await argon2idParallel(input, watching))).toBe(noble(input));
    expect(seen.length).toBe(2);
    const bytes = new Uint8Array(seen[0]!.buffer);
    expect(bytes.length).toBeGreaterThan(1024 * 1024);
    expect(bytes.every((b) => b === 0)).toBe(true);
  });

  it('lane workers started ahead of the first fill (prestart) fill it, and only once', async () => {
    let spawned = 0;
    const early = new LaneWorkerPool(() => (spawned++, nodeLanePort(LANE_WORKER)), 2);
    pools.push(early);
    early.prestart(1);
    expect(spawned).toBe(1);
    early.prestart(4);
    expect(spawned).toBe(2);
    expect(toHex(await argon2idParallel(input, early))).toBe(noble(input));
    expect(toHex(await argon2idParallel(input, early))).toBe(noble(input));
    expect(spawned).toBe(2);
  });

  it('a lane worker that never answers ends in an error within the budget, not a hang', async () => {
    const silent = pool(2, new URL('./silent.node-worker.ts', import.meta.url), () => 500);
    await expect(argon2idParallel(input, silent)).rejects.toThrow(/timed out/);
    // The pool dropped its workers and is free again: the next run starts new ones (and fails the same way).
    expect(silent.busy).toBe(false);
    await expect(argon2idParallel(input, silent)).rejects.toThrow(/timed out/);
  });

  it('lane workers that cannot start: the single path, with the same key', async () => {
    const broken = new LaneWorkerPool((): LanePort => {
      throw new Error('Worker is not allowed here');
    }, 2);
    const { v, params } = vectorParams(2);
    expect(await deriveKeyWithPath(fromHex(v.password), fromHex(v.salt), params, broken)).toEqual({
      key: fromHex(v.tag),
      path: 'single',
    });
    // Asked directly to run in parallel, the pool reports the failure instead of hanging.
    await expect(argon2idParallel(input, broken)).rejects.toThrow(/not allowed/);
  });

  it('a lane worker that dies during a derivation is kdf_failed for the caller, within the budget', async () => {
    const silent = pool(2, new URL('./silent.node-worker.ts', import.meta.url), () => 500);
    await started(silent, 2);
    const params = { algorithm: 'argon2id' as const, memoryKiB: 16384, iterations: 2, parallelism: 2 };
    const err = await deriveKeyWithPath(utf8Encode('pw'), new Uint8Array(16), params, silent).catch((e) => e);
    expect(err.code).toBe('kdf_failed');
  });

  it('rejects inputs RFC 9106 §3.1 does not allow, with a RangeError', async () => {
    await expect(argon2idSingle({ ...input, memoryKiB: 31 })).rejects.toThrow(RangeError);
    await expect(argon2idSingle({ ...input, tagLength: 3 })).rejects.toThrow(RangeError);
    await expect(argon2idSingle({ ...input, salt: new Uint8Array(7) })).rejects.toThrow(RangeError);
    await expect(argon2idParallel({ ...input, parallelism: 0 }, twoThreads)).rejects.toThrow(RangeError);
  });
});
