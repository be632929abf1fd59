/**
 * The real Intel-signed collateral fixtures (test/fixtures/tdx/collateral, dcap-qvl JSON form) as tests load them to
 * publish through the PCCS simulator (sim/pccs). Test-only: shipped code never reads test fixtures.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Collateral } from '../../lib/attest/types';
import { pckCrlCa } from '../../sim/pccs/pccs-simulator';

export interface CollateralFixture {
  /** File name, e.g. "tdx-b0c06f-2025-06-19.json". */
  name: string;
  /** The file's text, untouched. */
  text: string;
  collateral: Collateral;
  /** What a quote verified with this collateral needs fetched (read from the documents themselves). */
  needs: { teeType: 'TDX' | 'SGX'; fmspc: string; pckCa: 'platform' | 'processor' };
}

/** Directory of the real collateral fixtures (shared, read-only). */
export const COLLATERAL_FIXTURE_DIR = path.resolve(process.cwd(), 'test/fixtures/tdx/collateral');

/** Every collateral fixture, with the needs derived from its TCB info and PCK CRL. */
export async function loadCollateralFixtures(dir = COLLATERAL_FIXTURE_DIR): Promise<CollateralFixture[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(path.join(dir, name), 'utf8');
      const collateral = JSON.parse(text) as Collateral;
      const tcb = JSON.parse(collateral.tcb_info) as { id?: string; fmspc: string };
      return {
        name,
        text,
        collateral,
        needs: { teeType: tcb.id === 'TDX' ? 'TDX' : 'SGX', fmspc: tcb.fmspc, pckCa: pckCrlCa(collateral.pck_crl) },
      } satisfies CollateralFixture;
    }),
  );
}
