// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { parseQuote } from '../../../lib/attest/quote';
import type { AcceptancePolicy, Collateral } from '../../../lib/attest/types';
import { verifyQuote } from '../../../lib/attest/verify';
import { expectedCases, mutationRecipes, readCollateral, readQuote } from './fixtures';

interface Recipe {
  id: string;
  expect: string;
  now?: number;
  quote?: {
    xor?: [number, number][];
    truncate?: number;
    append?: number;
    u16le?: [number, number][];
    u32le?: [number, number][];
  };
  coll?: {
    replace?: [keyof Collateral, string, string];
    set?: [keyof Collateral, string];
    swap?: [keyof Collateral, keyof Collateral];
  };
}

function applyQuoteRecipe(base: Uint8Array, r: NonNullable<Recipe['quote']>): Uint8Array {
  let q = base.slice();
  for (const [off, x] of r.xor ?? []) q[off]! ^= x;
  for (const [off, v] of r.u16le ?? []) new DataView(q.buffer).setUint16(off, v, true);
  for (const [off, v] of r.u32le ?? []) new DataView(q.buffer).setUint32(off, v, true);
  if (r.truncate !== undefined) q = q.slice(0, r.truncate);
  if (r.append !== undefined) q = new Uint8Array([...q, ...new Uint8Array(r.append).fill(0xab)]);
  return q;
}

function applyCollateralRecipe(base: Collateral, r: NonNullable<Recipe['coll']>): Collateral {
  const c = { ...base };
  if (r.replace) {
    const [field, from, to] = r.replace;
    expect(c[field]).toContain(from);
    c[field] = c[field].replace(from, to);
  }
  if (r.set) c[r.set[0]] = r.set[1];
  if (r.swap) [c[r.swap[0]], c[r.swap[1]]] = [c[r.swap[1]], c[r.swap[0]]];
  return c;
}

describe('mutations.json: every recipe is rejected', () => {
  const m = mutationRecipes();
  const baseQuote = readQuote(m.base_quote);
  const baseColl = readCollateral(m.base_collateral);

  it('the unmutated base verifies (so the rejections below are caused by the mutation)', async () => {
    const r = await verifyQuote(baseQuote, baseColl, { now: m.default_now_unix * 1000 });
    expect(r.verified).toBe(true);
  });

  for (const recipe of m.mutations as Recipe[]) {
    it(`${recipe.id}: ${recipe.expect.slice(0, 80)}`, async () => {
      const quote = recipe.quote ? applyQuoteRecipe(baseQuote, recipe.quote) : baseQuote;
      const coll = recipe.coll ? applyCollateralRecipe(baseColl, recipe.coll) : baseColl;
      const r = await verifyQuote(quote, coll, { now: (recipe.now ?? m.default_now_unix) * 1000 });
      expect(r.verified).toBe(false);
      expect(r.valid).toBe(false);
      expect(r.error?.code).toMatch(/^[a-z_]+$/);
    });
  }

  it('pins the failing check of the recipes the reference library accepts', async () => {
    const codeOf = async (id: string) => {
      const recipe = (m.mutations as Recipe[]).find((x) => x.id === id)!;
      const quote = recipe.quote ? applyQuoteRecipe(baseQuote, recipe.quote) : baseQuote;
      const coll = recipe.coll ? applyCollateralRecipe(baseColl, recipe.coll) : baseColl;
      return (await verifyQuote(quote, coll, { now: (recipe.now ?? m.default_now_unix) * 1000 })).error?.code;
    };
    expect(await codeOf('pck_crl-garbage')).toBe('crl_malformed');
    expect(await codeOf('root_ca_crl-garbage')).toBe('crl_malformed');
    expect(await codeOf('crls-swapped')).toBe('crl_invalid');
    expect(await codeOf('now-after-pck-crl-nextUpdate')).toBe('crl_expired');
    expect(await codeOf('append-garbage-16')).toBe('quote_malformed');
    expect(await codeOf('now-after-tcb-nextUpdate')).toBe('collateral_expired');
    expect(await codeOf('now-before-issueDate')).toMatch(/not_yet_valid|crl_invalid/);
    expect(await codeOf('tcb_info-whitespace-added')).toBe('collateral_signature_invalid');
  });

  it('trailing zero padding (as real quotes carry) is tolerated, and any non-zero trailing byte is not', async () => {
    const padded = new Uint8Array([...baseQuote, ...new Uint8Array(64)]);
    expect((await verifyQuote(padded, baseColl, { now: m.default_now_unix * 1000 })).verified).toBe(true);
    const tail = padded.slice();
    tail[tail.length - 1] = 1;
    const r = await verifyQuote(tail, baseColl, { now: m.default_now_unix * 1000 });
    expect(r.error?.code).toBe('quote_malformed');
  });
});

/**
 * Must show 2: flipping any single byte of the signed regions (header, body, signature data, QE report, QE auth
 * data, certification chain) never yields verified: true. Done for every byte up to the end of the signature
 * data, for each quote that verifies unmutated.
 */
describe('every single-byte flip of a verifying quote is rejected', () => {
  const allowAll: AcceptancePolicy = {
    allowedStatuses: [
      'UpToDate',
      'SWHardeningNeeded',
      'ConfigurationNeeded',
      'ConfigurationAndSWHardeningNeeded',
      'OutOfDate',
      'OutOfDateConfigurationNeeded',
    ],
  };
  for (const c of expectedCases().filter((x) => x.expected.accept)) {
    for (const mask of [0x01, 0x80]) {
      it(`${c.id}: xor 0x${mask.toString(16).padStart(2, '0')} at each byte of the quote`, async () => {
        const quote = readQuote(c.quote);
        const coll = readCollateral(c.collateral);
        const now = c.now_unix * 1000;
        expect((await verifyQuote(quote, coll, { now, policy: allowAll })).verified).toBe(true);
        const end = parseQuote(quote).length;
        const accepted: number[] = [];
        const codes = new Map<string, number>();
        for (let i = 0; i < end; i++) {
          const mutated = quote.slice();
          mutated[i]! ^= mask;
          const r = await verifyQuote(mutated, coll, { now, policy: allowAll });
          if (r.verified || r.valid) accepted.push(i);
          codes.set(r.error?.code ?? 'none', (codes.get(r.error?.code ?? 'none') ?? 0) + 1);
        }
        expect(accepted).toEqual([]);
        expect(codes.has('verifier_failed')).toBe(false);
        // Each region is caught by its own check, not by an accident of parsing.
        expect(codes.get('quote_signature_invalid')).toBeGreaterThan(0);
        expect(codes.get('qe_report_signature_invalid')).toBeGreaterThan(0);
        expect(codes.get('qe_report_binding_invalid')).toBeGreaterThan(0);
      }, 120_000);
    }
  }
});
