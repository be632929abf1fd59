// @vitest-environment node
// Seeded random mutations of every fixture quote and its collateral through the real verifier: each call must
// resolve to a QuoteVerification (or a typed AttestError from the input parsers), and none whose signed bytes
// were changed may verify. The engine is shared with `npm run fuzz` (100,000 cases); see fuzz-mutations.ts.
// CLAWKEEP_FUZZ_CASES sets the number of cases, CLAWKEEP_FUZZ_SEED replays a run. No timing is asserted here:
// the slowest call is printed (scripts/fuzz-attest.mjs enforces the 1 s bound).
import { describe, expect, it } from 'vitest';
import { describeCase, loadFuzzBases, makeCase, quoteLayout, runCase, runFuzz } from './fuzz-mutations';

/** ~10 s alone on the shared 2-core machine (about 1 ms per case), well under a minute under load. */
const DEFAULT_CASES = 10_000;
const CASES = Number(process.env.CLAWKEEP_FUZZ_CASES ?? DEFAULT_CASES);
// A fixed default seed keeps `npm test` deterministic; `npm run fuzz` draws a new seed each run to explore.
const DEFAULT_SEED = 20261123;
const SEED = process.env.CLAWKEEP_FUZZ_SEED !== undefined ? Number(process.env.CLAWKEEP_FUZZ_SEED) >>> 0 : DEFAULT_SEED;

const bases = loadFuzzBases();

describe('fuzz harness', () => {
  it('reads every fixture layout from its length fields', () => {
    for (const b of bases) {
      const layout = quoteLayout(b.quote);
      expect(layout.end).toBeLessThanOrEqual(b.quote.length);
      // Only zero padding after the signature data (README: 70 bytes on v4 quotes, none on v5).
      expect(b.quote.subarray(layout.end).every((x) => x === 0)).toBe(true);
      expect(Buffer.from(b.quote.subarray(layout.pemStart, layout.pemStart + 27)).toString('latin1')).toBe(
        '-----BEGIN CERTIFICATE-----',
      );
    }
  });

  it('generates the same case from the same seed and index', () => {
    const a = makeCase(bases, 1234, 77);
    const b = makeCase(bases, 1234, 77);
    expect(describeCase(a)).toBe(describeCase(b));
    expect(a.quote).toEqual(b.quote);
    expect(describeCase(makeCase(bases, 1235, 77))).not.toBe(describeCase(a));
  });

  it('flags a flipped signed quote byte as must-reject and the verifier rejects it', async () => {
    // Find a generated case that is a single bit flip in the body of the up-to-date quote.
    let found;
    for (let i = 0; !found && i < 20_000; i++) {
      const c = makeCase(bases, 42, i);
      if (c.base === 'tdx-v4-uptodate' && c.mutations.length === 1 && /^flip bit \d @(\d+)$/.test(c.mutations[0]!)) {
        const at = Number(/@(\d+)$/.exec(c.mutations[0]!)![1]);
        if (at >= 48 && at < 632) found = c;
      }
    }
    expect(found?.mustReject).toBe(true);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- not unnecessary: without it tsc infers a narrower type and fails
    const out = await runCase(found!);
    expect(out.kind).toBe('rejected');
  });

  it('the unmutated fixtures behave as expected.json says (the harness can see a verification)', async () => {
    const up = bases.find((b) => b.id === 'tdx-v4-uptodate')!;
    const c = {
      ...makeCase(bases, 1, 0),
      base: up.id,
      mutations: [],
      quote: up.quote,
      collateral: { ...up.collateral },
      nowMs: up.nowMs,
      mustReject: false,
      viaHexText: false,
    };
    expect((await runCase(c)).kind).toBe('verified');
  });
});

describe(`fuzz: ${CASES} mutated quotes and collateral (seed ${SEED})`, () => {
  it('never throws, never verifies a mutated signed region', async () => {
    const stats = await runFuzz({ bases, seed: SEED, count: CASES });
    console.log(
      `fuzz seed ${SEED}: ${stats.cases} cases in ${(stats.totalMs / 1000).toFixed(1)} s; ${stats.exceptions} exceptions, ` +
        `${stats.verifiedOnMutation} verified with mutated signed bytes, ${stats.verified} verified in all; ` +
        `slowest ${stats.slowest.ms.toFixed(1)} ms (${stats.slowest.what})\nrejections: ${JSON.stringify(stats.rejectedByCode)}`,
    );
    expect(stats.findings).toEqual([]);
    expect(stats.exceptions).toBe(0);
    expect(stats.verifiedOnMutation).toBe(0);
    expect(stats.cases).toBe(CASES);
  }, 600_000);
});

describe('fuzz oracle', () => {
  it('a re-framed quote that says the same thing (PEM NUL moved into the padding) may verify; changing what it says may not', async () => {
    const { verifyQuote } = await import('../../../lib/attest/verify');
    const sgx = bases.find((b) => b.id === 'sgx-v3-config-swhardening')!;
    const layout = quoteLayout(sgx.quote);
    const q = sgx.quote.slice();
    const view = new DataView(q.buffer);
    const sigLenAt = layout.lengthFields.find((f) => f.name === 'signature data length')!.offset;
    const pemLenAt = layout.lengthFields.find((f) => f.name === 'PCK chain size')!.offset;
    expect(q[layout.end - 1]).toBe(0); // the chain ends with a NUL
    view.setUint32(sigLenAt, view.getUint32(sigLenAt, true) - 1, true);
    view.setUint32(pemLenAt, view.getUint32(pemLenAt, true) - 1, true);
    const policy = { allowedStatuses: ['ConfigurationAndSWHardeningNeeded' as const] };
    expect((await verifyQuote(q, sgx.collateral, { now: sgx.nowMs, policy })).verified).toBe(true);
    // Text after the last certificate block is not the same chain: rejected.
    const cut = q.slice();
    cut[layout.end - 2] = 0x41;
    expect((await verifyQuote(cut, sgx.collateral, { now: sgx.nowMs, policy })).verified).toBe(false);
  });
});
