// @vitest-environment node
/**
 * Genuine-but-stale vs not-Intel (issue 15). Real Intel quotes and collateral (test/fixtures/tdx, see its README for
 * windows and provenance) checked outside their collateral window must say "stale" with the window, never verify,
 * and re-verify inside the window. Forged or tampered evidence must never be called stale (attacker tests).
 */
import { describe, expect, it } from 'vitest';
import { describeStaleness } from '../../../lib/attest/staleness';
import type { Collateral, QuoteVerification } from '../../../lib/attest/types';
import { verifyQuote } from '../../../lib/attest/verify';
import { buildCollateral, staleWindow } from '../../../sim/cvm/collateral';
import { buildTdxQuote, createQuotingEnclave } from '../../../sim/cvm/quote';
import { generateTestPki } from '../../../sim/cvm/test-pki';
import { simulatedOsImage } from '../../../sim/cvm/os-image';
import { readCollateral, readQuote } from './fixtures';

const QUOTE = readQuote('quotes/tdx-v4-b0c06f-2025.bin');
const TAPPD_QUOTE = readQuote('quotes/tdx-v4-b0c06f-tappd-2024.bin');
const COLLATERAL = readCollateral('collateral/tdx-b0c06f-2025-06-19.json');
const WRONG_2024 = readCollateral('collateral/WRONG-sgx-typed-for-b0c06f-2024-09-02.json');
// README: the 2025-06-19 set's documents overlap from 2025-06-19T10:32:27Z (QE identity issue) to
// 2025-07-19T10:00:35Z (PCK CRL nextUpdate); the root CRL runs to 2026-04-03T11:21:57Z.
const WINDOW = { from: '2025-06-19T10:32:27.000Z', to: '2025-07-19T10:00:35.000Z' };
const AFTER = new Date('2025-08-01T00:00:00Z');
const BEFORE = new Date('2025-06-01T00:00:00Z');

const expectNotStale = (r: QuoteVerification) => {
  expect(r.verified).toBe(false);
  expect(r.valid).toBe(false);
  expect(r.staleCollateral).toBeNull();
};

describe('a genuine Intel quote outside its collateral window', () => {
  it('after the window: not verified, but stale with the window, the expired documents and a time inside', async () => {
    const r = await verifyQuote(QUOTE, COLLATERAL, { now: AFTER });
    expect(r.verified).toBe(false);
    expect(r.valid).toBe(false);
    expect(r.error?.code).toBe('collateral_expired'); // TCB info is checked before the CRLs
    expect(r.staleCollateral).not.toBeNull();
    const stale = r.staleCollateral!;
    expect(stale.window).toEqual(WINDOW);
    expect(stale.suggestedTime).toBe(WINDOW.to);
    expect(stale.outOfWindow.map((d) => [d.id, d.state])).toEqual([
      ['tcb-info', 'expired'],
      ['qe-identity', 'expired'],
      ['pck-crl', 'expired'],
    ]);
    expect(stale.outOfWindow[0]).toMatchObject({ from: '2025-06-19T10:16:03.000Z', to: '2025-07-19T10:16:03.000Z' });
    // The certificate's dates are the authenticated ones of every document.
    expect(r.collateral?.pckCrlNextUpdate).toBe(WINDOW.to);
    expect(r.collateral?.rootCrlNextUpdate).toBe('2026-04-03T11:21:57.000Z');

    // The one-click historical check: at the suggested time the same inputs verify.
    const again = await verifyQuote(QUOTE, COLLATERAL, { now: new Date(stale.suggestedTime!) });
    expect(again.verified).toBe(true);
    expect(again.staleCollateral).toBeNull();
  });

  it('before the window: not-yet-valid documents, the suggested time is the window start and verifies', async () => {
    const r = await verifyQuote(QUOTE, COLLATERAL, { now: BEFORE });
    expect(r.verified).toBe(false);
    expect(r.error?.code).toMatch(/not_yet_valid/);
    expect(r.staleCollateral?.window).toEqual(WINDOW);
    expect(r.staleCollateral?.suggestedTime).toBe(WINDOW.from);
    expect(r.staleCollateral?.outOfWindow.every((d) => d.state === 'not-yet-valid')).toBe(true);
    expect((await verifyQuote(QUOTE, COLLATERAL, { now: new Date(WINDOW.from) })).verified).toBe(true);
  });

  it('inside the window nothing is stale', async () => {
    const r = await verifyQuote(QUOTE, COLLATERAL, { now: new Date('2025-07-01T00:00:00Z') });
    expect(r.verified).toBe(true);
    expect(r.staleCollateral).toBeNull();
  });

  it('a stale root CRL in an otherwise current set: stale with no common window (only fresh collateral helps)', async () => {
    // Every document Intel-signed; the root CRL comes from the 2024 set (valid to 2025-04-03), as a PCCS that stopped
    // refreshing its root CRL would serve it.
    const mixed: Collateral = { ...COLLATERAL, root_ca_crl: WRONG_2024.root_ca_crl };
    const r = await verifyQuote(QUOTE, mixed, { now: new Date('2025-07-01T00:00:00Z') });
    expect(r.verified).toBe(false);
    expect(r.error?.code).toBe('crl_expired');
    expect(r.staleCollateral).toMatchObject({ window: null, suggestedTime: null });
    expect(r.staleCollateral?.outOfWindow.map((d) => d.id)).toEqual(['root-crl']);
  });

  it('genuine quote below every TCB level: still stale (genuine), and the historical check names the real reason', async () => {
    const r = await verifyQuote(TAPPD_QUOTE, COLLATERAL, { now: AFTER });
    expect(r.staleCollateral?.suggestedTime).toBe(WINDOW.to);
    const again = await verifyQuote(TAPPD_QUOTE, COLLATERAL, { now: new Date(WINDOW.to) });
    expect(again.verified).toBe(false);
    expect(again.error?.code).toBe('tcb_level_not_found');
  });
});

describe('attacker: forged or altered evidence with expired collateral is never "stale"', () => {
  it('a quote whose signature was altered', async () => {
    const forged = QUOTE.slice();
    forged[700] = forged[700]! ^ 0x01; // inside the quote signature (signed region is 632 bytes)
    const r = await verifyQuote(forged, COLLATERAL, { now: AFTER });
    expect(r.error?.code).toBe('collateral_expired'); // fails on a date first, exactly like the genuine one
    expectNotStale(r);
  });

  it('a REPORTDATA byte changed', async () => {
    const forged = QUOTE.slice();
    forged[48 + 520] = forged[48 + 520]! ^ 0x80;
    expectNotStale(await verifyQuote(forged, COLLATERAL, { now: AFTER }));
  });

  it('TCB info whose dates were moved to cover the verification time (signature no longer verifies)', async () => {
    const moved: Collateral = {
      ...COLLATERAL,
      tcb_info: COLLATERAL.tcb_info.replace(
        '"nextUpdate":"2025-07-19T10:16:03Z"',
        '"nextUpdate":"2025-09-19T10:16:03Z"',
      ),
    };
    expect(moved.tcb_info).not.toBe(COLLATERAL.tcb_info);
    expectNotStale(await verifyQuote(QUOTE, moved, { now: AFTER }));
  });

  it('collateral of the wrong type (SGX documents for a TDX quote), all Intel-signed and expired', async () => {
    const r = await verifyQuote(readQuote('quotes/tdx-v4-b0c06f-ratls-2024.bin'), WRONG_2024, { now: AFTER });
    expect(r.error?.code).toBe('crl_expired');
    expectNotStale(r);
  });

  it('a quote from a non-Intel PKI: refused as not Intel, with or without its root in the chain', async () => {
    const now = AFTER.getTime();
    const pki = await generateTestPki(now, ['B0C06F000000']);
    const platform = pki.platforms[0]!;
    const image = simulatedOsImage();
    const td = {
      mrTd: image.measurement.mrtd,
      rtmrs: ['00', '00', '00', '00'].map((b) => b.repeat(48)) as [string, string, string, string],
      mrConfigId: '00'.repeat(48),
      reportData: '00'.repeat(64),
    };

    // With its own self-signed root at the end of the chain.
    const full = await buildTdxQuote(await createQuotingEnclave(platform), td);
    const refused = await verifyQuote(full, COLLATERAL, { now: AFTER });
    expect(refused.error?.code).toBe('untrusted_root');
    expectNotStale(refused);

    // Without it: the first failure is Intel's expired TCB info, and only a full signature pass shows the forgery.
    const blocks = platform.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*/g)!;
    expect(blocks).toHaveLength(3);
    const rootless = { ...platform, chainPem: blocks.slice(0, 2).join('') };
    const forged = await buildTdxQuote(await createQuotingEnclave(rootless), td);
    const r = await verifyQuote(forged, COLLATERAL, { now: AFTER });
    expect(r.error?.code).toBe('collateral_expired');
    expectNotStale(r);

    // Its own stale collateral, checked against Intel's pinned root: not stale either.
    const ownStale = await buildCollateral(pki, staleWindow(now), 'B0C06F000000');
    expectNotStale(await verifyQuote(forged, ownStale, { now: AFTER }));
  });
});

describe('describeStaleness', () => {
  const dates = {
    tcbInfoIssueDate: '2025-06-19T10:16:03.000Z',
    tcbInfoNextUpdate: '2025-07-19T10:16:03.000Z',
    qeIdentityIssueDate: '2025-06-19T10:32:27.000Z',
    qeIdentityNextUpdate: '2025-07-19T10:32:27.000Z',
    pckCrlThisUpdate: '2025-06-19T10:00:35.000Z',
    pckCrlNextUpdate: '2025-07-19T10:00:35.000Z',
    rootCrlThisUpdate: '2025-03-20T11:21:57.000Z',
    rootCrlNextUpdate: '2026-04-03T11:21:57.000Z',
    tcbEvaluationDataNumber: 17,
  };
  it('is null when every document is current, and the bounds are inclusive', () => {
    expect(describeStaleness(dates, new Date(WINDOW.to))).toBeNull();
    expect(describeStaleness(dates, new Date(WINDOW.from))).toBeNull();
  });
  it('names only the documents out of their window: one second after the PCK CRL expired', () => {
    const s = describeStaleness(dates, new Date(Date.parse(WINDOW.to) + 1000))!;
    expect(s.outOfWindow.map((d) => d.id)).toEqual(['pck-crl']);
    expect(s.suggestedTime).toBe(WINDOW.to);
  });
  it('is null for a missing date', () => {
    expect(describeStaleness({ ...dates, pckCrlThisUpdate: '' }, AFTER)).toBeNull();
  });
});
