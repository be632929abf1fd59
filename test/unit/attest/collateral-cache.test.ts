// @vitest-environment node
import { createStore, get, set } from 'idb-keyval';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CollateralCache,
  collateralCacheKey,
  collateralFreshUntil,
  defaultCollateralCache,
  getCollateral,
} from '../../../lib/attest/collateral-cache';
import { AttestError } from '../../../lib/attest/errors';
import { COLLATERAL_CACHE_DB } from '../../../lib/storage/persisted-keys';
import type { Collateral } from '../../../lib/attest/types';
import { PccsSimulator } from '../../../sim/pccs/pccs-simulator';
import { loadCollateralFixtures, type CollateralFixture } from '../../sim/collateral-fixtures';

const COLLATERAL_CACHE_STORE = COLLATERAL_CACHE_DB.stores[0]!;

let fixtures: CollateralFixture[];
const byName = (prefix: string) => {
  const f = fixtures.find((x) => x.name.startsWith(prefix));
  if (!f) throw new Error(`fixture ${prefix} missing`);
  return f;
};

beforeAll(async () => {
  fixtures = await loadCollateralFixtures();
});

describe('collateralFreshUntil', () => {
  // Expected values: the per-document dates the fixture README lists (min of TCB info, QE identity, PCK CRL and
  // root CA CRL nextUpdate), read independently of this code.
  const expected: Record<string, string> = {
    'tdx-b0c06f-2025-06-19.json': '2025-07-19T10:00:35Z', // the PCK CRL, ~15 min before the TCB info
    'tdx-90c06f-2026-02-18.json': '2026-03-20T10:41:15Z', // PCK CRL
    'sgx-00a067110000-2025-06-19.json': '2025-07-19T10:01:18Z', // QE identity
    'WRONG-sgx-typed-for-b0c06f-2024-09-02.json': '2024-10-02T00:35:42Z', // QE identity
  };

  it('is the earliest nextUpdate of the four dated documents, for every fixture', () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual(Object.keys(expected).sort());
    for (const f of fixtures)
      expect(new Date(collateralFreshUntil(f.collateral)).toISOString(), f.name).toBe(
        new Date(expected[f.name]!).toISOString(),
      );
  });

  it('takes the root CA CRL into account when it is the earliest', () => {
    // Swap in an older root CA CRL (2024-03-20..2025-04-03, from the 2024 fixture) to make it the earliest.
    const older = byName('WRONG-sgx').collateral.root_ca_crl;
    const mixed = { ...byName('tdx-b0c06f').collateral, root_ca_crl: older };
    expect(collateralFreshUntil(mixed)).toBeLessThan(Date.parse('2025-04-04T00:00:00Z'));
    expect(collateralFreshUntil(mixed)).toBeGreaterThan(Date.parse('2025-04-03T00:00:00Z'));
  });

  it('refuses collateral whose dates cannot be read', () => {
    const base = byName('tdx-b0c06f').collateral;
    const broken: Array<Partial<Collateral>> = [
      { tcb_info: '{"nextUpdate":"soon"}' },
      { tcb_info: 'not json' },
      { qe_identity: '{}' },
      { pck_crl: 'zz' },
      { pck_crl: base.pck_crl.slice(0, 200) },
      { root_ca_crl: '' },
    ];
    for (const change of broken) expect(() => collateralFreshUntil({ ...base, ...change })).toThrow(AttestError);
  });
});

describe('getCollateral with the IndexedDB cache', () => {
  let sim: PccsSimulator;
  let cache: CollateralCache;
  let dbName: string;
  let fixture: CollateralFixture;
  let freshUntil: number;
  let dbCounter = 0;

  const TCB = '/tdx/certification/v4/tcb';
  // Inside the collateral window of the 2025 B0C06F set (see the fixture README).
  const NOW = Date.parse('2025-07-01T00:00:00Z');
  const opts = (now: number, extra: Record<string, unknown> = {}) => ({
    pccsUrl: sim.url,
    now,
    cache,
    retries: 1,
    retryDelayMs: 1,
    timeoutMs: 2_000,
    ...extra,
  });

  beforeEach(async () => {
    sim = await PccsSimulator.start();
    fixture = byName('tdx-b0c06f');
    sim.publish(fixture.collateral);
    freshUntil = collateralFreshUntil(fixture.collateral);
    dbName = `collateral-cache-test-${++dbCounter}`;
    cache = new CollateralCache({ dbName });
  });
  afterEach(async () => sim.close());

  it('serves a fresh entry without touching the network', async () => {
    const first = await getCollateral(fixture.needs, opts(NOW));
    expect(first).toEqual(fixture.collateral);
    const afterFirst = sim.requestCount();
    expect(afterFirst).toBe(4);

    const offline: typeof fetch = () => Promise.reject(new TypeError('offline'));
    const second = await getCollateral(fixture.needs, opts(freshUntil - 1, { fetch: offline }));
    expect(second).toEqual(fixture.collateral);
    expect(sim.requestCount()).toBe(afterFirst);
  });

  it('shares an entry between spellings of the same PCCS URL and FMSPC, and keys by TEE, CA and PCCS', async () => {
    await getCollateral(fixture.needs, opts(NOW));
    const lower = { ...fixture.needs, fmspc: fixture.needs.fmspc.toLowerCase() };
    expect(await cache.read(`${sim.url}/`, lower)).not.toBeNull();
    expect(await cache.read(`${sim.url}/sgx/certification/v4`, fixture.needs)).not.toBeNull();
    expect(await cache.read(sim.url, { ...fixture.needs, pckCa: 'processor' })).toBeNull();
    expect(await cache.read(sim.url, { ...fixture.needs, teeType: 'SGX' })).toBeNull();
    expect(await cache.read('https://pccs.example.com', fixture.needs)).toBeNull();
  });

  it('refetches once the earliest nextUpdate is reached', async () => {
    await getCollateral(fixture.needs, opts(NOW));
    expect(sim.requestCount(TCB)).toBe(1);
    await getCollateral(fixture.needs, opts(freshUntil - 1));
    expect(sim.requestCount(TCB)).toBe(1);

    // The PCK CRL's nextUpdate is the earliest; the TCB info is still current then, yet everything is refetched.
    const result = await getCollateral(fixture.needs, opts(freshUntil));
    expect(sim.requestCount(TCB)).toBe(2);
    expect(sim.requestCount()).toBe(8);
    // The PCCS still serves the same (now expired) documents: returned for the verifier to reject with a date,
    // but not cached, so the next call asks again.
    expect(result).toEqual(fixture.collateral);
    expect(await cache.read(sim.url, fixture.needs)).toBeNull();
    await getCollateral(fixture.needs, opts(freshUntil + 60_000));
    expect(sim.requestCount(TCB)).toBe(3);
  });

  it('replaces a stale entry with the refetched current one', async () => {
    // Cache an older set under this key (as if fetched last month), then let the PCCS serve the current one.
    const older = { ...fixture.collateral, root_ca_crl: byName('WRONG-sgx').collateral.root_ca_crl };
    const olderUntil = collateralFreshUntil(older);
    expect(await cache.write(sim.url, fixture.needs, older, olderUntil - 1000)).toBe(true);
    expect(olderUntil).toBeLessThan(NOW);

    const result = await getCollateral(fixture.needs, opts(NOW));
    expect(result).toEqual(fixture.collateral);
    expect(sim.requestCount(TCB)).toBe(1);
    const cached = await cache.read(sim.url, fixture.needs);
    expect(cached?.collateral).toEqual(fixture.collateral);
    expect(cached?.freshUntil).toBe(freshUntil);
  });

  it('fails closed when the entry is stale and the PCCS is down: the stale copy is not used', async () => {
    await getCollateral(fixture.needs, opts(NOW));
    sim.failNext('*', { kind: 'status', status: 503 }, 100);
    const err = await getCollateral(fixture.needs, opts(freshUntil + 1)).then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => e as AttestError,
    );
    expect(err).toBeInstanceOf(AttestError);
    expect(err.code).toBe('collateral_fetch_failed');
    expect(err.message).toContain('HTTP 503');
    expect(err.message).toContain(`expired at ${new Date(freshUntil).toISOString()} and is not used`);

    // Also with the network gone entirely (connection refused), and the stale entry is gone for good.
    await sim.close();
    await expect(getCollateral(fixture.needs, opts(freshUntil + 1))).rejects.toMatchObject({
      code: 'collateral_fetch_failed',
    });
    expect(await cache.read(sim.url, fixture.needs)).toBeNull();
    sim = await PccsSimulator.start(); // for afterEach
  });

  it('drops corrupted entries instead of trusting them, then refetches', async () => {
    const key = collateralCacheKey(sim.url, fixture.needs);
    const store = createStore(dbName, COLLATERAL_CACHE_STORE);
    const good = { version: 1, key, fetchedAt: NOW, collateral: fixture.collateral };
    const otherFmspc = byName('tdx-90c06f').collateral;
    const corrupted: unknown[] = [
      'garbage',
      null,
      { ...good, version: 2 },
      { ...good, key: `${key}x` },
      { ...good, collateral: { ...fixture.collateral, tcb_info: '{"nextUpdate":' } },
      { ...good, collateral: { ...fixture.collateral, pck_crl: 'deadbeef' } },
      { ...good, collateral: { ...fixture.collateral, qe_identity_signature: 42 } },
      { ...good, collateral: otherFmspc }, // a valid set, but for another platform
    ];
    let fetches = 0;
    for (const value of corrupted) {
      await set(key, value, store);
      expect(await cache.read(sim.url, fixture.needs)).toBeNull();
      expect(await get(key, store)).toBeUndefined(); // deleted, not just skipped

      await set(key, value, store);
      const result = await getCollateral(fixture.needs, opts(NOW));
      fetches++;
      expect(result).toEqual(fixture.collateral);
      expect(sim.requestCount(TCB)).toBe(fetches);
      expect((await cache.read(sim.url, fixture.needs))?.collateral).toEqual(fixture.collateral);
    }
  });

  it('does not cache when told not to', async () => {
    await getCollateral(fixture.needs, opts(NOW, { cache: null }));
    await getCollateral(fixture.needs, opts(NOW, { cache: null }));
    expect(sim.requestCount(TCB)).toBe(2);
    expect(await cache.read(sim.url, fixture.needs)).toBeNull();
  });

  it('has a default cache where IndexedDB exists', () => {
    expect(defaultCollateralCache()).toBeInstanceOf(CollateralCache);
  });

  it('rejects bad needs or URLs before reading the cache', async () => {
    await expect(getCollateral({ ...fixture.needs, fmspc: 'nothex' }, opts(NOW))).rejects.toMatchObject({
      code: 'collateral_fetch_failed',
    });
    await expect(getCollateral(fixture.needs, opts(NOW, { pccsUrl: 'http://pccs.example.com' }))).rejects.toMatchObject(
      { code: 'collateral_fetch_failed' },
    );
    expect(sim.requestCount()).toBe(0);
  });
});
