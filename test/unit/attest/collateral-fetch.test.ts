// @vitest-environment node
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CollateralFetchError,
  INTEL_PCS_URL,
  INTEL_ROOT_CA_CRL_URL,
  PHALA_PCCS_URL,
  fetchCollateral,
  type CollateralNeeds,
  type FetchCollateralOptions,
} from '../../../lib/attest/collateral-fetch';
import { AttestError } from '../../../lib/attest/errors';
import { PccsSimulator } from '../../../sim/pccs/pccs-simulator';
import { loadCollateralFixtures, type CollateralFixture } from '../../sim/collateral-fixtures';

const TCB_PATH = (tee: 'tdx' | 'sgx') => `/${tee}/certification/v4/tcb`;
const QE_PATH = (tee: 'tdx' | 'sgx') => `/${tee}/certification/v4/qe/identity`;
const PCK_CRL_PATH = '/sgx/certification/v4/pckcrl';
const ROOT_CRL_PATH = '/sgx/certification/v4/rootcacrl';

let fixtures: CollateralFixture[];
let sim: PccsSimulator;

const byName = (prefix: string) => {
  const f = fixtures.find((x) => x.name.startsWith(prefix));
  if (!f) throw new Error(`fixture ${prefix} missing`);
  return f;
};

/** Fast retries so failure tests do not wait on production backoff. */
const opts = (extra: Partial<FetchCollateralOptions> = {}): FetchCollateralOptions => ({
  pccsUrl: sim.url,
  retryDelayMs: 1,
  timeoutMs: 5_000,
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<AttestError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AttestError);
  expect((err as AttestError).code).toBe('collateral_fetch_failed');
  return err as AttestError;
}

beforeAll(async () => {
  fixtures = await loadCollateralFixtures();
  // The brief's TDX and SGX sets must both be exercised, not only whatever the directory happens to hold.
  expect(fixtures.some((f) => f.needs.teeType === 'TDX')).toBe(true);
  expect(fixtures.some((f) => f.needs.teeType === 'SGX')).toBe(true);
});

describe('fetchCollateral round trip through the PCCS simulator', () => {
  afterEach(async () => sim.close());

  for (const rootCaCrl of ['hex', 'der'] as const) {
    it(`yields collateral identical to every fixture (PCCS rootcacrl as ${rootCaCrl})`, async () => {
      sim = await PccsSimulator.start({ rootCaCrl });
      for (const fixture of fixtures) {
        sim.publish(fixture.collateral);
        const before = sim.requestCount();
        const fetched = await fetchCollateral(fixture.needs, opts());
        // Field by field (exact strings: signed JSON text, signatures, PEM chains, hex CRLs) ...
        expect(Object.keys(fetched).sort()).toEqual(Object.keys(fixture.collateral).sort());
        for (const [field, value] of Object.entries(fixture.collateral)) {
          expect(fetched[field as keyof typeof fetched], `${fixture.name}: ${field}`).toBe(value);
        }
        // ... and as a whole document, key order included.
        expect(JSON.stringify(fetched)).toBe(JSON.stringify(JSON.parse(fixture.text)));
        expect(sim.requestCount() - before).toBe(4); // one request per document, no retries
      }
    });
  }

  it('takes the root CA CRL from the fallback URL when the PCCS has no rootcacrl (404)', async () => {
    sim = await PccsSimulator.start({ rootCaCrl: 'absent' });
    const fixture = byName('tdx-b0c06f');
    sim.publish(fixture.collateral);
    const fetched = await fetchCollateral(fixture.needs, opts({ rootCaCrlUrl: `${sim.url}/IntelSGXRootCA.der` }));
    expect(fetched.root_ca_crl).toBe(fixture.collateral.root_ca_crl);
    expect(sim.requestCount(ROOT_CRL_PATH)).toBe(1); // a 404 is not retried
    expect(sim.requestCount('/IntelSGXRootCA.der')).toBe(1);
  });

  it("for Intel's PCS, asks api.trustedservices.intel.com and the root CRL distribution point, never rootcacrl", async () => {
    sim = await PccsSimulator.start();
    const fixture = byName('sgx-');
    sim.publish(fixture.collateral);
    const asked: string[] = [];
    // Route Intel's hosts to the simulator, to see which URLs the fetcher builds for PCS.
    const routed: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      asked.push(url);
      return fetch(url.replace(INTEL_PCS_URL, sim.url).replace(new URL(INTEL_ROOT_CA_CRL_URL).origin, sim.url), init);
    };
    const fetched = await fetchCollateral(fixture.needs, opts({ pccsUrl: `${INTEL_PCS_URL}/`, fetch: routed }));
    expect(fetched).toEqual(fixture.collateral);
    expect(asked.sort()).toEqual(
      [
        `${INTEL_PCS_URL}/sgx/certification/v4/tcb?fmspc=${fixture.needs.fmspc.toUpperCase()}`,
        `${INTEL_PCS_URL}/sgx/certification/v4/qe/identity?update=standard`,
        `${INTEL_PCS_URL}/sgx/certification/v4/pckcrl?ca=${fixture.needs.pckCa}&encoding=der`,
        INTEL_ROOT_CA_CRL_URL,
      ].sort(),
    );
    expect(sim.requestCount(ROOT_CRL_PATH)).toBe(0);
  });

  it('accepts a PCCS URL given with the API suffix, lower-case FMSPC, and a PEM PCK CRL', async () => {
    sim = await PccsSimulator.start();
    const fixture = byName('tdx-90c06f');
    sim.publish(fixture.collateral);
    const needs = { ...fixture.needs, fmspc: fixture.needs.fmspc.toLowerCase() };
    // A PCCS that ignores encoding=der and answers PEM (Intel's default encoding) still yields the same DER.
    const pemCrl: typeof fetch = (input, init) =>
      fetch((input instanceof Request ? input.url : String(input)).replace('&encoding=der', '&encoding=pem'), init);
    const fetched = await fetchCollateral(needs, opts({ pccsUrl: `${sim.url}/tdx/certification/v4/`, fetch: pemCrl }));
    expect(fetched).toEqual(fixture.collateral);
    expect(sim.requests).toContain(`${TCB_PATH('tdx')}?fmspc=${fixture.needs.fmspc.toUpperCase()}`);
  });
});

describe('fetchCollateral failures', () => {
  let fixture: CollateralFixture;
  let needs: CollateralNeeds;

  // A fresh simulator per test: injected failures never leak into the next test.
  beforeEach(async () => {
    sim = await PccsSimulator.start();
    fixture = byName('tdx-b0c06f');
    needs = fixture.needs;
    sim.publish(fixture.collateral);
  });
  afterEach(async () => sim.close());

  it('an unknown FMSPC is a 404 that names the TCB info and is not retried', async () => {
    const before = sim.requestCount(TCB_PATH('tdx'));
    const err = await rejection(fetchCollateral({ ...needs, fmspc: '00112233AABB' }, opts()));
    expect(err).toBeInstanceOf(CollateralFetchError);
    expect((err as CollateralFetchError).status).toBe(404);
    expect((err as CollateralFetchError).document).toBe('TCB info');
    expect(err.message).toContain('TCB info');
    expect(err.message).toContain('HTTP 404');
    expect(sim.requestCount(TCB_PATH('tdx')) - before).toBe(1);
  });

  it('retries HTTP 500 and succeeds', async () => {
    const before = sim.requestCount(QE_PATH('tdx'));
    sim.failNext(QE_PATH('tdx'), { kind: 'status', status: 500 }, 2);
    const fetched = await fetchCollateral(needs, opts({ retries: 2 }));
    expect(fetched.qe_identity).toBe(fixture.collateral.qe_identity);
    expect(sim.requestCount(QE_PATH('tdx')) - before).toBe(3);
  });

  it('gives up after the retries on a persistent 503, naming the document and status', async () => {
    const before = sim.requestCount(PCK_CRL_PATH);
    sim.failNext(PCK_CRL_PATH, { kind: 'status', status: 503 }, 10);
    const err = await rejection(fetchCollateral(needs, opts({ retries: 2 })));
    expect(err.message).toContain('PCK CRL');
    expect(err.message).toContain('HTTP 503');
    expect(err.message).toContain('3 attempts');
    expect(sim.requestCount(PCK_CRL_PATH) - before).toBe(3);
  });

  it('does not retry a 4xx', async () => {
    const before = sim.requestCount(TCB_PATH('tdx'));
    sim.failNext(TCB_PATH('tdx'), { kind: 'status', status: 429 }, 5);
    const err = await rejection(fetchCollateral(needs, opts({ retries: 3 })));
    expect(err.message).toContain('HTTP 429');
    expect(sim.requestCount(TCB_PATH('tdx')) - before).toBe(1);
  });

  it('times out a request that never answers, retrying it as a transient failure', async () => {
    const before = sim.requestCount(TCB_PATH('tdx'));
    sim.failNext(TCB_PATH('tdx'), { kind: 'hang' }, 2);
    const err = await rejection(fetchCollateral(needs, opts({ timeoutMs: 150, retries: 1 })));
    expect(err.message).toContain('TCB info');
    expect(err.message).toContain('timed out after 150 ms');
    expect(sim.requestCount(TCB_PATH('tdx')) - before).toBe(2);
  });

  it('retries a truncated body (connection dropped mid-body) and succeeds', async () => {
    const before = sim.requestCount(TCB_PATH('tdx'));
    sim.failNext(TCB_PATH('tdx'), { kind: 'truncate' }, 1);
    const fetched = await fetchCollateral(needs, opts({ retries: 1 }));
    expect(fetched.tcb_info).toBe(fixture.collateral.tcb_info);
    expect(sim.requestCount(TCB_PATH('tdx')) - before).toBe(2);
  });

  for (const chunked of [false, true]) {
    it(`refuses an oversize body (${chunked ? 'streamed, no Content-Length' : 'Content-Length'}) without retrying`, async () => {
      const before = sim.requestCount(QE_PATH('tdx'));
      sim.failNext(QE_PATH('tdx'), { kind: 'oversize', bytes: 2 * 1024 * 1024, chunked }, 1);
      const err = await rejection(fetchCollateral(needs, opts({ retries: 2 })));
      expect(err.message).toContain('QE identity');
      expect(err.message).toContain(`${1024 * 1024}-byte limit`);
      expect(sim.requestCount(QE_PATH('tdx')) - before).toBe(1);
    });
  }

  it('refuses a missing, non-PEM or badly encoded issuer chain header', async () => {
    const header = 'TCB-Info-Issuer-Chain';
    const cases: Array<[string | null, string]> = [
      [null, 'no TCB-Info-Issuer-Chain'],
      [
        encodeURIComponent('-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n'),
        'not a PEM certificate chain',
      ],
      [
        encodeURIComponent('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
        'not a PEM certificate chain',
      ],
      ['%E0%A4%A', 'not valid URL encoding'],
      [
        encodeURIComponent(`${fixture.collateral.tcb_info_issuer_chain}trailing garbage`),
        'not a PEM certificate chain',
      ],
    ];
    for (const [value, why] of cases) {
      sim.failNext(TCB_PATH('tdx'), { kind: 'header', name: header, value }, 1);
      const err = await rejection(fetchCollateral(needs, opts({ retries: 0 })));
      expect(err.message).toContain('TCB info');
      expect(err.message).toContain(why);
    }
  });

  it('refuses bodies that are not the PCS shape, without re-serializing anything', async () => {
    const sig = fixture.collateral.tcb_info_signature;
    const tcb = fixture.collateral.tcb_info;
    const cases: Array<[string, string]> = [
      ['not json', 'not the expected JSON object'],
      [`{"tcbInfo":${tcb}}`, 'signature is not 128 hex digits'],
      [`{"tcbInfo":${tcb},"signature":"${sig.slice(2)}"}`, 'signature is not 128 hex digits'],
      [`{"tcbInfo":${tcb},"tcbInfo":${tcb},"signature":"${sig}"}`, 'duplicate member'],
      [`{"enclaveIdentity":${tcb},"signature":"${sig}"}`, 'no "tcbInfo" object'],
      [`{"tcbInfo":${tcb.replace(fixture.needs.fmspc, '00906ED50000')},"signature":"${sig}"}`, 'not the requested'],
    ];
    for (const [body, why] of cases) {
      sim.failNext(TCB_PATH('tdx'), { kind: 'body', body }, 1);
      const err = await rejection(fetchCollateral(needs, opts({ retries: 0 })));
      expect(err.message).toContain(why);
    }
  });

  it('keeps whitespace inside and around the signed object exactly as served', async () => {
    // Formatting a re-serializer would change: spaces, an escaped character, a member order of our choosing.
    const tcb = fixture.collateral.tcb_info.replace('"id":"TDX",', '"id" : "\\u0054DX" ,\n  ');
    expect(tcb).not.toBe(fixture.collateral.tcb_info);
    const spaced = ` { "signature" : "${fixture.collateral.tcb_info_signature.toUpperCase()}" ,\n "tcbInfo" :${tcb}\n} `;
    sim.failNext(TCB_PATH('tdx'), { kind: 'body', body: spaced }, 1);
    const fetched = await fetchCollateral(needs, opts({ retries: 0 }));
    expect(fetched.tcb_info).toBe(tcb);
    expect(fetched.tcb_info_signature).toBe(fixture.collateral.tcb_info_signature);
  });

  it('refuses a TDX request answered with the SGX QE identity', async () => {
    const sgx = byName('WRONG-sgx');
    sim.failNext(QE_PATH('tdx'), {
      kind: 'body',
      body: `{"enclaveIdentity":${sgx.collateral.qe_identity},"signature":"${sgx.collateral.qe_identity_signature}"}`,
    });
    const err = await rejection(fetchCollateral(needs, opts({ retries: 0 })));
    expect(err.message).toContain('expected TD_QE');
  });

  // (Separate tests: an aborted sibling request of an earlier fetch may still reach the simulator late.)
  it('refuses a PCK CRL that is DER but not a CRL', async () => {
    sim.failNext(PCK_CRL_PATH, { kind: 'body', body: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]) });
    const err = await rejection(fetchCollateral(needs, opts({ retries: 0 })));
    expect(err.message).toContain('PCK CRL');
    expect(err.message).toContain('does not parse');
  });

  it('refuses a root CA CRL that is neither DER, hex nor PEM', async () => {
    sim.failNext(ROOT_CRL_PATH, { kind: 'body', body: 'zz' });
    const err = await rejection(fetchCollateral(needs, opts({ retries: 0 })));
    expect(err.message).toContain('root CA CRL');
    expect(err.message).toContain('not a DER, hex or PEM CRL');
  });

  it('stops when the caller aborts, without retrying', async () => {
    const before = sim.requestCount(TCB_PATH('tdx'));
    sim.failNext(TCB_PATH('tdx'), { kind: 'hang' }, 1);
    const controller = new AbortController();
    const pending = fetchCollateral(needs, opts({ signal: controller.signal, retries: 3, timeoutMs: 60_000 }));
    // Abort once the simulator holds the request (a fixed 50 ms raced a loaded CI machine: the request had not
    // arrived yet, and the count was 0). Bounded wait; no timing is asserted.
    for (let i = 0; i < 500 && sim.requestCount(TCB_PATH('tdx')) - before < 1; i++)
      await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const err = await rejection(pending);
    expect(err.message).toContain('aborted by the caller');
    expect(sim.requestCount(TCB_PATH('tdx')) - before).toBe(1);
  });
});

describe('fetchCollateral input checks (before any request)', () => {
  const needs: CollateralNeeds = { teeType: 'TDX', fmspc: 'B0C06F000000', pckCa: 'platform' };
  const neverCalled: typeof fetch = () => {
    throw new Error('fetch must not be called');
  };

  it('refuses plain http to a non-loopback host, credentials in the URL, and other schemes', async () => {
    for (const pccsUrl of [
      'http://pccs.example.com',
      'http://10.0.0.5:8081',
      'http://127.0.0.1.evil.example',
      'https://user:pass@pccs.example.com',
      'ftp://pccs.example.com',
      'javascript:alert(1)',
      'not a url',
      'https://pccs.example.com/?token=x',
      'https://pccs.example.com/#x',
    ]) {
      await rejection(fetchCollateral(needs, { pccsUrl, fetch: neverCalled }));
    }
    await rejection(
      fetchCollateral(needs, {
        pccsUrl: PHALA_PCCS_URL,
        rootCaCrlUrl: 'http://crl.example.com/x.der',
        fetch: neverCalled,
      }),
    );
  });

  it('accepts https anywhere and http on loopback', async () => {
    const seen: string[] = [];
    const recording: typeof fetch = async (input) => {
      seen.push(new URL(input instanceof Request ? input.url : String(input)).origin);
      return new Response(null, { status: 404 });
    };
    for (const pccsUrl of [PHALA_PCCS_URL, 'http://127.0.0.1:8081', 'http://localhost:8081', 'http://[::1]:8081']) {
      const err = await rejection(fetchCollateral(needs, { pccsUrl, fetch: recording, retries: 0 }));
      expect(err.message).toContain('HTTP 404');
    }
    const allowed = [PHALA_PCCS_URL, 'http://127.0.0.1:8081', 'http://localhost:8081', 'http://[::1]:8081'];
    expect(seen).toEqual(expect.arrayContaining(allowed));
    // The only other host: Intel's root CRL distribution point, asked because the PCCS's rootcacrl said 404.
    expect(seen.filter((o) => !allowed.includes(o))).toSatisfy((rest: string[]) =>
      rest.every((o) => o === new URL(INTEL_ROOT_CA_CRL_URL).origin),
    );
  });

  it('refuses an FMSPC that is not 12 hex digits, and unknown TEE types / CAs', async () => {
    for (const fmspc of ['B0C06F00000', 'B0C06F0000000', 'B0C06F00000G', '', 'B0C06F00000/', '../../../x']) {
      const err = await rejection(
        fetchCollateral({ ...needs, fmspc }, { pccsUrl: PHALA_PCCS_URL, fetch: neverCalled }),
      );
      expect(err.message).toContain('FMSPC');
    }
    await rejection(
      fetchCollateral({ ...needs, teeType: 'SEV' as 'TDX' }, { pccsUrl: PHALA_PCCS_URL, fetch: neverCalled }),
    );
    await rejection(
      fetchCollateral({ ...needs, pckCa: 'root' as 'platform' }, { pccsUrl: PHALA_PCCS_URL, fetch: neverCalled }),
    );
  });
});
