// @vitest-environment node
/**
 * The whole collateral path with real parts: quote → collateralNeeds → getCollateral (PCCS simulator + IndexedDB
 * cache) → verifyQuote, for every fixture case whose collateral is the one the quote asks for. The verdicts must
 * equal the ones expected.json states for the hand-supplied collateral.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CollateralCache, getCollateral } from '../../../lib/attest/collateral-cache';
import { collateralNeeds } from '../../../lib/attest/collateral-needs';
import { parseQuoteText } from '../../../lib/attest/quote-input';
import type { TcbStatus } from '../../../lib/attest/types';
import { verifyQuote } from '../../../lib/attest/verify';
import { PccsSimulator } from '../../../sim/pccs/pccs-simulator';
import { loadCollateralFixtures, type CollateralFixture } from '../../sim/collateral-fixtures';

const FIXTURES = path.resolve(process.cwd(), 'test/fixtures/tdx');

interface ExpectedCase {
  id: string;
  quote: string;
  quote_encoding: 'binary' | 'hex-text';
  collateral: string;
  now_unix: number;
  expected: { accept: boolean; status?: string; advisory_ids?: string[] };
}

const cases = JSON.parse(await readFile(path.join(FIXTURES, 'expected.json'), 'utf8')) as ExpectedCase[];

let sim: PccsSimulator;
let fixtures: CollateralFixture[];

beforeAll(async () => {
  fixtures = await loadCollateralFixtures();
});
// A fresh simulator per case: it holds only that case's collateral set.
beforeEach(async () => {
  sim = await PccsSimulator.start();
});
afterEach(async () => sim.close());

async function loadQuote(c: ExpectedCase): Promise<Uint8Array> {
  const raw = await readFile(path.join(FIXTURES, c.quote));
  return c.quote_encoding === 'binary' ? new Uint8Array(raw) : parseQuoteText(raw.toString('utf8'));
}

describe('fetched collateral verifies like the fixture collateral', () => {
  for (const c of cases) {
    it(c.id, async () => {
      const quote = await loadQuote(c);
      const needs = collateralNeeds(quote);
      const fixture = fixtures.find((f) => `collateral/${f.name}` === c.collateral)!;
      const matches =
        needs.teeType === fixture.needs.teeType &&
        needs.fmspc.toUpperCase() === fixture.needs.fmspc.toUpperCase() &&
        needs.pckCa === fixture.needs.pckCa;
      sim.publish(fixture.collateral);
      const now = c.now_unix * 1000;
      const cache = new CollateralCache({ dbName: `fetch-verify-${c.id}` });

      if (!matches) {
        // The case pairs the quote with collateral for another platform or TEE (a negative case). A fetcher asks
        // for what the quote needs, and the simulator only knows this case's (wrong) set, so nothing comes back.
        expect(c.expected.accept).toBe(false);
        await expect(getCollateral(needs, { pccsUrl: sim.url, now, cache, retries: 0 })).rejects.toMatchObject({
          code: 'collateral_fetch_failed',
        });
        return;
      }

      const fetched = await getCollateral(needs, { pccsUrl: sim.url, now, cache, retries: 0 });
      expect(fetched).toEqual(fixture.collateral);
      // expected.json's `accept` is the verdict with the case's status allowed (the default policy is UpToDate only).
      const policy = c.expected.status ? { allowedStatuses: [c.expected.status as TcbStatus] } : undefined;
      const result = await verifyQuote(quote, fetched, { now, policy });
      expect(result.verified).toBe(c.expected.accept);
      if (c.expected.status) expect(result.status).toBe(c.expected.status);
      if (c.expected.advisory_ids) expect(result.advisoryIds).toEqual(c.expected.advisory_ids);

      // Second time from the cache: no network, same verdict.
      const before = sim.requestCount();
      const cached = await getCollateral(needs, {
        pccsUrl: sim.url,
        now,
        cache,
        fetch: () => Promise.reject(new TypeError('offline')),
      });
      expect(sim.requestCount()).toBe(before);
      expect((await verifyQuote(quote, cached, { now, policy })).verified).toBe(c.expected.accept);
    });
  }
});
