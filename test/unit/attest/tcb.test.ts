// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { parseTcbInfo } from '../../../lib/attest/collateral';
import { AttestError } from '../../../lib/attest/errors';
import { parsePckExtension } from '../../../lib/attest/pck-extension';
import { parsePemChain } from '../../../lib/attest/pem';
import { parseQuote } from '../../../lib/attest/quote';
import { convergeStatus, matchPlatformLevel, sortPlatformLevels } from '../../../lib/attest/tcb';
import { TCB_STATUSES } from '../../../lib/attest/types';
import { parseCertificate } from '../../../lib/attest/x509';
import { readCollateral, readQuote } from './fixtures';

const quote = parseQuote(readQuote('quotes/tdx-v4-b0c06f-2025.bin'));
const pck = parsePckExtension(parseCertificate(parsePemChain(quote.pckChainPem, 'chain')[0]!, 'leaf').sgxExtension!);
const tcbText = readCollateral('collateral/tdx-b0c06f-2025-06-19.json').tcb_info;

describe('TCB level matching', () => {
  it('does not depend on the order the document lists levels in', () => {
    const info = parseTcbInfo(tcbText);
    const expected = matchPlatformLevel(info, pck, quote.td);
    expect(expected.status).toBe('UpToDate');
    for (let seed = 1; seed <= 20; seed++) {
      const shuffled = [...info.levels]
        .sort(
          (a, b) =>
            ((a.pceSvn * 31 + a.sgxComponents[0]! * seed) % 7) - ((b.pceSvn * 31 + b.sgxComponents[0]! * seed) % 7),
        )
        .reverse();
      expect(matchPlatformLevel({ ...info, levels: shuffled }, pck, quote.td)).toEqual(expected);
    }
    const sorted = sortPlatformLevels([...info.levels].reverse());
    expect(sorted[0]!.status).toBe('UpToDate');
  });

  it('compares TDX components from index 2 when the module major version is set, else from 0', () => {
    const info = parseTcbInfo(tcbText);
    // TEE_TCB_SVN[0] (module SVN 6) is judged by the module identity, not by the platform level.
    const td = { ...quote.td!, teeTcbSvn: quote.td!.teeTcbSvn.slice() };
    td.teeTcbSvn[0] = 0;
    expect(matchPlatformLevel(info, pck, td).status).toBe('UpToDate');
    td.teeTcbSvn[1] = 0; // no major version: all 16 components count, and SVN 0 is below every level
    expect(() => matchPlatformLevel(info, pck, td)).toThrow(AttestError);
  });

  it('a platform below every level is a clear rejection', () => {
    const info = parseTcbInfo(tcbText);
    const low = { ...pck, sgxComponents: pck.sgxComponents.map(() => 0) };
    try {
      matchPlatformLevel(info, low, quote.td);
      expect.unreachable();
    } catch (err) {
      expect((err as AttestError).code).toBe('tcb_level_not_found');
      expect((err as AttestError).message).toContain('B0C06F000000');
    }
  });

  it('requires exactly 16 SGX and TDX components per level', () => {
    const short = tcbText.replace('"sgxtcbcomponents":[{"svn":2', '"sgxtcbcomponents":[{"svn":2},{"svn":2');
    expect(() => parseTcbInfo(short)).toThrow(/exactly 16/);
  });
});

describe('status convergence', () => {
  it('follows Intel: OutOfDate QE/module turns configuration statuses into OutOfDateConfigurationNeeded; Revoked wins', () => {
    expect(convergeStatus('UpToDate', 'UpToDate')).toBe('UpToDate');
    expect(convergeStatus('SWHardeningNeeded', 'UpToDate')).toBe('SWHardeningNeeded');
    expect(convergeStatus('UpToDate', 'OutOfDate')).toBe('OutOfDate');
    expect(convergeStatus('SWHardeningNeeded', 'OutOfDate')).toBe('OutOfDate');
    expect(convergeStatus('ConfigurationNeeded', 'OutOfDate')).toBe('OutOfDateConfigurationNeeded');
    expect(convergeStatus('ConfigurationAndSWHardeningNeeded', 'OutOfDate')).toBe('OutOfDateConfigurationNeeded');
    for (const s of TCB_STATUSES) expect(convergeStatus(s, 'Revoked')).toBe('Revoked');
    for (const s of TCB_STATUSES) expect(convergeStatus('Revoked', s)).toBe('Revoked');
  });
});
