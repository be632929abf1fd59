// @vitest-environment node
// @phala/dcap-qvl 0.3.9 as a test oracle: where it is right, our verifier agrees with it (verdict, status,
// advisories, report fields); where it is known to be wrong (fixtures README, "Reference results"), it accepts
// and we reject. Both of its code paths run here, in Node:
//  - "node": Node's crypto.X509Certificate / createVerify (what it picks in plain Node);
//  - "pure-JS": its own X.509 shim + elliptic + hash.js, which it picks when `window` exists or
//    crypto.X509Certificate is absent, i.e. in every browser or Web Worker bundle. It decides once, when
//    crypto-compat.js is loaded, so a second copy of the package is loaded with `window` defined.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCollateralJson } from '../../../lib/attest/collateral';
import { parseQuoteText } from '../../../lib/attest/quote-input';
import { TCB_STATUSES, type QuoteVerification } from '../../../lib/attest/types';
import { verifyQuote } from '../../../lib/attest/verify';

const FIXTURES = path.resolve(process.cwd(), 'test/fixtures/tdx');
const read = (rel: string) => readFileSync(path.join(FIXTURES, rel));

// ---- the reference, both paths ----------------------------------------------------------------------------

interface DcapQvl {
  isBrowser: boolean;
  verify(
    quote: Uint8Array,
    collateral: unknown,
    nowSecs: number,
  ): { status: string; advisory_ids: string[]; report: ReferenceReport };
  Quote: { parse(quote: Uint8Array): { header: { version: number; teeType: number }; report: ReferenceReport } };
}
interface ReferenceReport {
  type: 'sgx' | 'td10' | 'td15';
  data: Record<string, Uint8Array> & { base?: Record<string, Uint8Array> };
}

const require = createRequire(import.meta.url);
const PACKAGE_SRC = `${path.sep}@phala${path.sep}dcap-qvl${path.sep}src${path.sep}`;

function loadDcapQvl(mode: 'node' | 'pure-JS'): DcapQvl {
  for (const key of Object.keys(require.cache)) if (key.includes(PACKAGE_SRC)) delete require.cache[key];
  const g = globalThis as { window?: unknown };
  if (mode === 'pure-JS') g.window = {};
  try {
    return require('@phala/dcap-qvl') as DcapQvl;
  } finally {
    if (mode === 'pure-JS') delete g.window;
  }
}
const REFERENCE = { node: loadDcapQvl('node'), 'pure-JS': loadDcapQvl('pure-JS') } as const;
type Mode = keyof typeof REFERENCE;
const MODES = Object.keys(REFERENCE) as Mode[];
/** expected.json / mutations.json record the reference's results under these names. */
const RECORDED_AS: Record<Mode, 'node_crypto' | 'pure_js_browser_mode'> = {
  node: 'node_crypto',
  'pure-JS': 'pure_js_browser_mode',
};

type RefResult =
  { ok: true; status: string; advisoryIds: string[]; report: ReferenceReport } | { ok: false; error: string };

function runReference(mode: Mode, quote: Uint8Array, collateral: unknown, nowSecs: number): RefResult {
  try {
    const r = REFERENCE[mode].verify(quote, collateral, nowSecs);
    return { ok: true, status: r.status, advisoryIds: r.advisory_ids, report: r.report };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

// ---- ours ------------------------------------------------------------------------------------------------

/** Every status but Revoked: the oracle compares TCB evaluation, not our stricter default acceptance policy. */
const PERMISSIVE = { allowedStatuses: TCB_STATUSES.filter((s) => s !== 'Revoked') };

const ours = (quote: Uint8Array, collateral: unknown, nowSecs: number): Promise<QuoteVerification> =>
  verifyQuote(quote, parseCollateralJson(JSON.stringify(collateral)), { now: nowSecs * 1000, policy: PERMISSIVE });

/** The reference's failure messages and the error codes of ours that mean the same thing. */
const SAME_REASON: Array<[RegExp, string[]]> = [
  [/^Failed to decode quote/, ['quote_malformed', 'quote_unsupported']],
  [/^Unsupported DCAP attestation key type/, ['quote_unsupported', 'quote_malformed']],
  [/^ISV enclave report signature is invalid/, ['quote_signature_invalid']],
  [/^QE report hash mismatch/, ['qe_report_binding_invalid']],
  [/^Signature is invalid for qe_report/, ['qe_report_signature_invalid']],
  [/^Signature is invalid for (tcb_info|qe_identity)/, ['collateral_signature_invalid']],
  // Collateral time checks: ours checks every document's window, so an earlier-expiring one may be named.
  [/^TCBInfo issue date is in the future/, ['collateral_not_yet_valid', 'crl_expired']],
  [/^TCBInfo expired/, ['collateral_expired', 'crl_expired']],
  [/^No matching TCB level found/, ['tcb_level_not_found']],
  [/^Fmspc mismatch/, ['fmspc_mismatch']],
  [/^Certificate is expired or not yet valid/, ['certificate_not_yet_valid', 'certificate_expired']],
  [/^Unsupported QE Identity id\/version/, ['collateral_mismatch', 'crl_invalid', 'chain_invalid']],
];
const ourCodesFor = (refError: string) => SAME_REASON.find(([re]) => re.test(refError))?.[1];

// ---- fixtures -----------------------------------------------------------------------------------------------

interface Recorded {
  ok: boolean;
  status?: string;
  advisory_ids?: string[];
  error?: string;
}
interface ExpectedCase {
  id: string;
  quote: string;
  collateral: string;
  now_unix: number;
  expected: { accept: boolean; status?: string; advisory_ids?: string[] };
  phala_dcap_qvl_0_3_9: Record<'node_crypto' | 'pure_js_browser_mode', Recorded>;
}
const CASES = JSON.parse(read('expected.json').toString('utf8')) as ExpectedCase[];
const loadQuote = (rel: string) => parseQuoteText(new Uint8Array(read(rel)));
const loadCollateral = (rel: string) => JSON.parse(read(rel).toString('utf8')) as Record<string, string>;

/** The reference's answer is right when it matches our independent expectation (README table). */
function referenceIsRight(ref: RefResult, expected: ExpectedCase['expected']): boolean {
  if (!ref.ok) return !expected.accept;
  return (
    expected.accept &&
    ref.status === expected.status &&
    JSON.stringify(ref.advisoryIds) === JSON.stringify(expected.advisory_ids)
  );
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The reference's own parse of the report, next to ours: two independent parsers must read the same fields. */
function expectSameReportFields(result: QuoteVerification, report: ReferenceReport): void {
  expect(result.bodyType).toBe(report.type);
  if (report.type === 'sgx') {
    expect(result.reportData).toBe(hex(report.data.reportData!));
    expect(result.enclave?.mrEnclave).toBe(hex(report.data.mrEnclave!));
    expect(result.enclave?.mrSigner).toBe(hex(report.data.mrSigner!));
    return;
  }
  const td = report.type === 'td15' ? report.data.base! : report.data;
  expect(result.mrtd).toBe(hex(td.mrTd!));
  expect(result.rtmrs).toEqual([td.rtMr0, td.rtMr1, td.rtMr2, td.rtMr3].map((r) => hex(r!)));
  expect(result.reportData).toBe(hex(td.reportData!));
  expect(result.mrConfigId).toBe(hex(td.mrConfigId!));
  expect(result.mrOwner).toBe(hex(td.mrOwner!));
  if (report.type === 'td15') expect(result.td?.mrServiceTd).toBe(hex(report.data.mrServiceTd!));
}

describe('oracle: the reference loads in both modes', () => {
  it('node mode uses Node crypto, pure-JS mode its own shim', () => {
    expect(REFERENCE.node.isBrowser).toBe(false);
    expect(REFERENCE['pure-JS'].isBrowser).toBe(true);
  });
});

describe('oracle: expected.json cases', () => {
  for (const c of CASES) {
    describe(c.id, () => {
      for (const mode of MODES) {
        it(`agrees with dcap-qvl (${mode}) where it is right, rejects where it wrongly accepts`, async () => {
          const quote = loadQuote(c.quote);
          const collateral = loadCollateral(c.collateral);
          const ref = runReference(mode, quote, collateral, c.now_unix);
          const recorded = c.phala_dcap_qvl_0_3_9[RECORDED_AS[mode]];
          // The reference still behaves as recorded in the fixtures (else the comparison below means little).
          expect(ref.ok).toBe(recorded.ok);
          if (ref.ok) expect(ref.status).toBe(recorded.status);
          else expect(ref.error).toBe(recorded.error);

          const result = await ours(quote, collateral, c.now_unix);
          // The reference's parse of the same bytes, whatever its verdict.
          expectSameReportFields(result, REFERENCE.node.Quote.parse(quote).report);

          if (referenceIsRight(ref, c.expected)) {
            expect(result.verified).toBe(ref.ok);
            if (ref.ok) {
              expect(result.status).toBe(ref.status);
              expect(result.advisoryIds).toEqual(ref.advisoryIds);
              expect(result.error).toBeNull();
              expectSameReportFields(result, ref.report);
            } else {
              expect(ourCodesFor(ref.error)).toContain(result.error?.code);
            }
          } else {
            // Documented reference bug (pure-JS skips certificate validity dates): it accepts, we reject.
            expect(ref.ok).toBe(true);
            expect(c.expected.accept).toBe(false);
            expect(result.verified).toBe(false);
            expect(result.error?.code).toMatch(/^certificate_(not_yet_valid|expired)$/);
          }
        });
      }
    });
  }

  it('the reference is wrong exactly where the README says: pure-JS on dstack-sim-2026-pck-not-yet-valid', () => {
    const wrong: string[] = [];
    for (const c of CASES) {
      for (const mode of MODES) {
        const ref = runReference(mode, loadQuote(c.quote), loadCollateral(c.collateral), c.now_unix);
        if (!referenceIsRight(ref, c.expected)) wrong.push(`${c.id} (${mode})`);
      }
    }
    expect(wrong).toEqual(['dstack-sim-2026-pck-not-yet-valid (pure-JS)']);
  });
});

// ---- mutations.json --------------------------------------------------------------------------------------

interface Mutation {
  id: string;
  quote?: {
    xor?: [number, number][];
    truncate?: number;
    append?: number;
    u16le?: [number, number][];
    u32le?: [number, number][];
  };
  coll?: { replace?: [string, string, string]; set?: [string, string]; swap?: [string, string] };
  now?: number;
  phala_dcap_qvl_0_3_9: Record<'node_crypto' | 'pure_js_browser_mode', Recorded>;
}
const MUTATIONS = JSON.parse(read('mutations.json').toString('utf8')) as {
  base_quote: string;
  base_collateral: string;
  default_now_unix: number;
  mutations: Mutation[];
};

/** Mutations the reference accepts although a verifier must reject them (README "Reference results"). */
const REFERENCE_WRONGLY_ACCEPTS: Record<string, string[]> = {
  'pck_crl-garbage': ['crl_malformed', 'crl_invalid'],
  'root_ca_crl-garbage': ['crl_malformed', 'crl_invalid'],
  'crls-swapped': ['crl_invalid', 'crl_malformed'],
  'now-after-pck-crl-nextUpdate': ['crl_expired'],
  'append-garbage-16': ['quote_malformed'],
};

/**
 * Where both reject but ours stops at an earlier check the reference lacks (mutations.json `expect` names it):
 * an unknown QE vendor id is refused before any signature is checked.
 */
const OURS_STOPS_EARLIER: Record<string, string[]> = {
  'qe-vendor-id-changed': ['quote_unsupported'],
};

function applyMutation(m: Mutation): { quote: Uint8Array; collateral: Record<string, string>; now: number } {
  let quote = Uint8Array.from(loadQuote(MUTATIONS.base_quote));
  const collateral = loadCollateral(MUTATIONS.base_collateral);
  const q = m.quote ?? {};
  const view = () => new DataView(quote.buffer, quote.byteOffset, quote.byteLength);
  for (const [off, mask] of q.xor ?? []) quote[off]! ^= mask;
  for (const [off, v] of q.u16le ?? []) view().setUint16(off, v, true);
  for (const [off, v] of q.u32le ?? []) view().setUint32(off, v, true);
  if (q.truncate !== undefined) quote = quote.slice(0, q.truncate);
  // README: "16 bytes of non-zero trailing garbage" (0xAB).
  if (q.append !== undefined) quote = Uint8Array.from([...quote, ...new Array<number>(q.append).fill(0xab)]);
  const cm = m.coll ?? {};
  if (cm.replace) {
    const [field, from, to] = cm.replace;
    expect(collateral[field]).toContain(from);
    collateral[field] = collateral[field]!.replace(from, to);
  }
  if (cm.set) collateral[cm.set[0]] = cm.set[1];
  if (cm.swap) [collateral[cm.swap[0]], collateral[cm.swap[1]]] = [collateral[cm.swap[1]]!, collateral[cm.swap[0]]!];
  return { quote, collateral, now: m.now ?? MUTATIONS.default_now_unix };
}

describe('oracle: mutations.json', () => {
  for (const m of MUTATIONS.mutations) {
    it(`${m.id}: ${REFERENCE_WRONGLY_ACCEPTS[m.id] ? 'the reference accepts, we reject' : 'both reject, for the same reason'}`, async () => {
      const { quote, collateral, now } = applyMutation(m);
      const result = await ours(quote, collateral, now);
      expect(result.verified).toBe(false);
      for (const mode of MODES) {
        const ref = runReference(mode, quote, collateral, now);
        expect(ref.ok).toBe(m.phala_dcap_qvl_0_3_9[RECORDED_AS[mode]].ok);
        if (REFERENCE_WRONGLY_ACCEPTS[m.id]) {
          expect(ref.ok).toBe(true);
          expect(REFERENCE_WRONGLY_ACCEPTS[m.id]).toContain(result.error?.code);
        } else {
          expect(ref.ok).toBe(false);
          if (!ref.ok)
            expect([...(ourCodesFor(ref.error) ?? []), ...(OURS_STOPS_EARLIER[m.id] ?? [])]).toContain(
              result.error?.code,
            );
        }
      }
    });
  }
});
