import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCollateralJson } from '../../../lib/attest/collateral';
import { parseQuoteText } from '../../../lib/attest/quote-input';
import type { Collateral } from '../../../lib/attest/types';

/** Real Intel-signed fixtures, copied with their provenance README from ../shared/fixtures/tdx into test/fixtures/tdx. */
export const TDX_FIXTURES = resolve(process.cwd(), 'test/fixtures/tdx');

export interface ExpectedCase {
  id: string;
  quote: string;
  collateral: string;
  now_unix: number;
  expected: { accept: boolean; status?: string; advisory_ids?: string[]; reason?: string };
  quote_summary: {
    length: number;
    header: { version: number; tee_type: string };
    body_type: 'td10' | 'td15' | 'sgx';
    signed_length: number;
    td_report?: Record<string, string>;
    sgx_report?: Record<string, string | number>;
    pck: { fmspc: string };
  };
}

export const readFixture = (path: string): Uint8Array => new Uint8Array(readFileSync(resolve(TDX_FIXTURES, path)));
export const readQuote = (path: string): Uint8Array => parseQuoteText(readFixture(path));
export const readCollateral = (path: string): Collateral =>
  parseCollateralJson(readFileSync(resolve(TDX_FIXTURES, path), 'utf8'));
export const expectedCases = (): ExpectedCase[] =>
  JSON.parse(readFileSync(resolve(TDX_FIXTURES, 'expected.json'), 'utf8'));
export const mutationRecipes = () => JSON.parse(readFileSync(resolve(TDX_FIXTURES, 'mutations.json'), 'utf8'));
