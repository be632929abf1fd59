// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { parseCollateralJson } from '../../../lib/attest/collateral';
import { verifyQuote } from '../../../lib/attest/verify';
import { expectedCases, readCollateral, readQuote } from './fixtures';

/** Must show 1: every real case gives the expected verdict and the expected report fields. */
describe('verifyQuote on every case of fixtures/tdx/expected.json', () => {
  for (const c of expectedCases()) {
    it(`${c.id}: ${c.expected.accept ? 'accepted' : 'rejected'}${c.expected.status ? ` (${c.expected.status})` : ''}`, async () => {
      const quote = readQuote(c.quote);
      const allowAll = {
        allowedStatuses: [
          'UpToDate',
          'SWHardeningNeeded',
          'ConfigurationNeeded',
          'ConfigurationAndSWHardeningNeeded',
          'OutOfDate',
          'OutOfDateConfigurationNeeded',
        ] as const,
      };
      const r = await verifyQuote(quote, readCollateral(c.collateral), {
        now: c.now_unix * 1000,
        policy: { allowedStatuses: [...allowAll.allowedStatuses] },
      });
      // expected.json's "accept" is Intel's verdict (genuine, current, a TCB level matched); our policy is separate.
      expect(r.valid).toBe(c.expected.accept);
      expect(r.verified).toBe(c.expected.accept);
      if (c.expected.accept) {
        expect(r.status).toBe(c.expected.status);
        expect(r.advisoryIds).toEqual(c.expected.advisory_ids);
        expect(r.error).toBeNull();
        expect(r.checks.every((check) => check.ok)).toBe(true);
      } else {
        expect(r.error?.code).toMatch(/^[a-z_]+$/);
        expect(r.checks.at(-1)?.ok).toBe(false);
      }

      const s = c.quote_summary;
      expect(r.version).toBe(s.header.version);
      expect(r.teeType).toBe(s.header.tee_type === '0x81' ? 'TDX' : 'SGX');
      expect(r.bodyType).toBe(s.body_type);
      if (s.td_report) {
        const td = s.td_report;
        expect(r.td).toMatchObject({
          teeTcbSvn: td.tee_tcb_svn,
          mrSeam: td.mr_seam,
          mrSignerSeam: td.mr_signer_seam,
          seamAttributes: td.seam_attributes,
          tdAttributes: td.td_attributes,
          xfam: td.xfam,
          mrTd: td.mr_td,
          mrConfigId: td.mr_config_id,
          mrOwner: td.mr_owner,
          mrOwnerConfig: td.mr_owner_config,
          reportData: td.report_data,
        });
        expect(r.td?.teeTcbSvn2).toBe(td.tee_tcb_svn2);
        expect(r.td?.mrServiceTd).toBe(td.mr_service_td);
        expect(r.mrtd).toBe(td.mr_td);
        expect(r.rtmrs).toEqual([td.rtmr0, td.rtmr1, td.rtmr2, td.rtmr3]);
        expect(r.reportData).toBe(td.report_data);
        expect(r.debug).toBe(false);
      }
      if (s.sgx_report) {
        expect(r.enclave).toMatchObject({
          cpuSvn: s.sgx_report.cpu_svn,
          miscSelect: s.sgx_report.misc_select,
          attributes: s.sgx_report.attributes,
          mrEnclave: s.sgx_report.mr_enclave,
          mrSigner: s.sgx_report.mr_signer,
          isvProdId: s.sgx_report.isv_prod_id,
          isvSvn: s.sgx_report.isv_svn,
          reportData: s.sgx_report.report_data,
        });
      }
      // FMSPC is read from the quote's PCK certificate; it is shown even when the chain later fails.
      expect(r.fmspc).toBe(s.pck.fmspc);
    });
  }

  it('names the failed check for each rejected case', async () => {
    const codes: Record<string, string> = {};
    for (const c of expectedCases().filter((x) => !x.expected.accept)) {
      const r = await verifyQuote(readQuote(c.quote), readCollateral(c.collateral), { now: c.now_unix * 1000 });
      codes[c.id] = r.error!.code;
    }
    expect(codes).toEqual({
      'tdx-v5-td15-no-tcb-level': 'tcb_level_not_found',
      'tdx-v4-tappd-no-tcb-level': 'tcb_level_not_found',
      'tdx-v4-wrong-collateral-sgx-typed': 'collateral_mismatch',
      'dstack-sim-2025-no-tcb-level': 'tcb_level_not_found',
      'dstack-sim-2026-pck-not-yet-valid': 'certificate_not_yet_valid',
      'dstack-sim-2026-fmspc-mismatch': 'fmspc_mismatch',
    });
  });

  it('default policy accepts only UpToDate: the SGX ConfigurationAndSWHardeningNeeded quote is valid but not verified', async () => {
    const c = expectedCases().find((x) => x.id === 'sgx-v3-config-swhardening')!;
    const r = await verifyQuote(readQuote(c.quote), readCollateral(c.collateral), { now: c.now_unix * 1000 });
    expect(r.valid).toBe(true);
    expect(r.verified).toBe(false);
    expect(r.status).toBe('ConfigurationAndSWHardeningNeeded');
    expect(r.error?.code).toBe('policy_rejected');
    const listed = await verifyQuote(readQuote(c.quote), readCollateral(c.collateral), {
      now: c.now_unix * 1000,
      policy: {
        allowedStatuses: ['UpToDate', 'ConfigurationAndSWHardeningNeeded'],
        allowedAdvisoryIds: ['INTEL-SA-00289'],
      },
    });
    expect(listed.verified).toBe(false);
    expect(listed.error?.message).toContain('INTEL-SA-00615');
    const allowed = await verifyQuote(readQuote(c.quote), readCollateral(c.collateral), {
      now: c.now_unix * 1000,
      policy: {
        allowedStatuses: ['ConfigurationAndSWHardeningNeeded'],
        allowedAdvisoryIds: ['INTEL-SA-00289', 'INTEL-SA-00615'],
      },
    });
    expect(allowed.verified).toBe(true);
  });

  it('the v5 TD 1.5 quote passes every signature, chain and hash check before failing TCB matching', async () => {
    const c = expectedCases().find((x) => x.id === 'tdx-v5-td15-no-tcb-level')!;
    const r = await verifyQuote(readQuote(c.quote), readCollateral(c.collateral), { now: c.now_unix * 1000 });
    const passed = r.checks.filter((x) => x.ok).map((x) => x.id);
    expect(passed).toEqual([
      'quote',
      'collateral',
      'root',
      'quote-root',
      'root-crl',
      'tcb-info',
      'qe-identity',
      'pck-chain',
      'pck-crl',
      'qe-report',
      'qe-binding',
      'qe-tcb',
      'quote-signature',
      'fmspc',
    ]);
    expect(r.checks.at(-1)).toMatchObject({ id: 'tcb-level', ok: false });
  });

  it('an invalid verification time is a typed error, not a crash', async () => {
    const c = expectedCases()[0]!;
    const r = await verifyQuote(readQuote(c.quote), readCollateral(c.collateral), { now: Number.NaN });
    expect(r.verified).toBe(false);
    expect(r.error?.code).toBe('verifier_failed');
  });
});

describe('collateral JSON forms', () => {
  it('accepts CRLs and signatures written as byte arrays (another dcap-qvl serialization) and verifies the same', async () => {
    const c = expectedCases()[0]!;
    const coll = readCollateral(c.collateral);
    const asBytes = (hex: string) => Array.from(Buffer.from(hex, 'hex'));
    const text = JSON.stringify({
      ...coll,
      pck_crl: asBytes(coll.pck_crl),
      root_ca_crl: asBytes(coll.root_ca_crl),
      tcb_info_signature: asBytes(coll.tcb_info_signature),
      qe_identity_signature: asBytes(coll.qe_identity_signature),
    });
    const r = await verifyQuote(readQuote(c.quote), parseCollateralJson(text), { now: c.now_unix * 1000 });
    expect(r.verified).toBe(true);
    expect(() => parseCollateralJson(JSON.stringify({ ...coll, pck_crl: [1, 2, 300] }))).toThrow(/byte array/);
    expect(() => parseCollateralJson(JSON.stringify({ ...coll, tcb_info: ['x'] }))).toThrow(/lacks "tcb_info"/);
  });
});
