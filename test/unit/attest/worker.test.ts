// @vitest-environment node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { intelRootDer, testAnchorsAllowed } from '../../../lib/attest/trust-anchor';
import type { Collateral, QuoteVerification } from '../../../lib/attest/types';
import { attestWorkerApi } from '../../../workers/attest.worker';
import { selfSignedTestRootDer } from '../../e2e/tee-certificate-test-root';

// The worker's API called in-thread (the module only calls comlink's expose inside a real worker).
const TDX = path.resolve(process.cwd(), 'test/fixtures/tdx');
const read = (rel: string): Buffer => readFileSync(path.join(TDX, rel));
const quote = new Uint8Array(read('quotes/tdx-v4-b0c06f-2025.bin'));
const collateralText = read('collateral/tdx-b0c06f-2025-06-19.json').toString('utf8');
const collateral = JSON.parse(collateralText) as Collateral;
const NOW = new Date('2025-07-01T00:00:00Z');

function expectRejected(result: QuoteVerification, code: string): void {
  expect(result.verified).toBe(false);
  expect(result.error?.code).toBe(code);
  expect(typeof result.error?.message).toBe('string');
}

describe('attest worker API: test trust anchor under the vitest define', () => {
  it('the unit-test build defines __CLAWKEEP_TEST_ANCHORS__ true (not the CLI environment switch)', () => {
    expect(process.env.CLAWKEEP_ALLOW_TEST_ANCHOR).toBeUndefined();
    expect(testAnchorsAllowed()).toBe(true);
  });

  it('honours a foreign test root up to chain validation, which then fails (no test_anchor_forbidden)', async () => {
    const result = await attestWorkerApi.verify(quote, collateral, {
      now: NOW,
      testTrustAnchor: { rootCertDer: await selfSignedTestRootDer() },
    });
    expect(result.verified).toBe(false);
    expect(result.testTrustAnchor).toBe(true);
    expect(result.error?.code).not.toBe('test_anchor_forbidden');
    // The anchor was loaded; the first thing signed by Intel's real root no longer checks out.
    expect(result.checks.find((c) => c.id === 'root')?.ok).toBe(true);
    const failed = result.checks.find((c) => !c.ok);
    expect(failed?.id).toMatch(/quote-root|crl|chain|tcb-info/);
    expect(['untrusted_root', 'chain_invalid', 'crl_invalid']).toContain(result.error?.code);
  });

  it('a test anchor with the bytes of Intel root verifies and is reported as a test anchor', async () => {
    const result = await attestWorkerApi.verify(quote, collateral, {
      now: NOW,
      testTrustAnchor: { rootCertDer: intelRootDer() },
    });
    expect(result.verified).toBe(true);
    expect(result.testTrustAnchor).toBe(true);
  });
});

describe('attest worker API: raw input', () => {
  it('verifies pasted hex (0x prefix, line breaks) and collateral JSON text', async () => {
    const hex = `0x${Buffer.from(quote)
      .toString('hex')
      .replace(/(.{64})/g, '$1\n')}`;
    const result = await attestWorkerApi.verifyInput({ quote: hex, collateral: collateralText, options: { now: NOW } });
    expect(result).toMatchObject({
      verified: true,
      status: 'UpToDate',
      teeType: 'TDX',
      error: null,
      testTrustAnchor: false,
    });
    expect(result.verifiedAt).toBe(NOW.toISOString());
  });

  it('reads the dstack identity of a genuinely signed quote that is rejected (no TCB level), as a hex file', async () => {
    const result = await attestWorkerApi.verifyInput({
      quote: new Uint8Array(read('dstack/sim-2025/quote.hex')),
      collateral,
      options: { now: NOW, dstack: { eventLog: read('dstack/sim-2025/eventlog.json').toString('utf8') } },
    });
    expectRejected(result, 'tcb_level_not_found');
    expect(result.dstack?.replayed).toBe(true);
    expect(result.dstack?.composeHash).toBe('ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b');
    expect(result.dstack?.appId).toBe('ea549f02e1a25fabd1cb788380e033ec5461b2ff');
  });

  it('gives no identity for a quote whose signature does not verify', async () => {
    const hex = read('dstack/sim-2025/quote.hex').toString('utf8').trim();
    const bytes = Buffer.from(hex, 'hex');
    bytes[48 + 200] = bytes[48 + 200]! ^ 0x01; // inside the signed TD report
    const result = await attestWorkerApi.verifyInput({
      quote: new Uint8Array(bytes),
      collateral,
      options: { now: NOW, dstack: { eventLog: read('dstack/sim-2025/eventlog.json').toString('utf8') } },
    });
    expect(result.verified).toBe(false);
    expect(result.dstack).toBeNull();
  });

  it('answers bad input with typed errors and never rejects', async () => {
    expectRejected(
      await attestWorkerApi.verifyInput({ quote: 'not hex at all', collateral: collateralText }),
      'quote_malformed',
    );
    expectRejected(await attestWorkerApi.verifyInput({ quote: '', collateral: collateralText }), 'quote_malformed');
    expectRejected(await attestWorkerApi.verifyInput({ quote, collateral: '{"tcb_info": ' }), 'collateral_malformed');
    expectRejected(await attestWorkerApi.verifyInput({ quote, collateral: '[]' }), 'collateral_malformed');
    const nothing = await attestWorkerApi.verifyInput(null as never);
    expect(nothing.verified).toBe(false);
    expect(nothing.error?.code).toBeTruthy();
    const badTime = await attestWorkerApi.verify(quote, collateral, { now: Number.NaN });
    expect(badTime.verified).toBe(false);
  });

  it('survives random truncations and byte flips of a real quote', async () => {
    let seed = 0x5eed;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 60; i++) {
      const mutated = quote.slice(0, i % 2 ? rand(quote.length) : quote.length);
      for (let k = 0; k < 3 && mutated.length; k++) {
        const at = rand(mutated.length);
        mutated[at] = mutated[at]! ^ (1 + rand(255));
      }
      const result = await attestWorkerApi.verify(mutated, collateral, { now: NOW });
      expect(result.verified).toBe(false);
      expect(result.error).not.toBeNull();
    }
  });
});
