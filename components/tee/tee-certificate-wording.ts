import type { QuoteVerification, TcbStatus } from '../../lib/attest/types';

/**
 * Plain-English wording for the "TEE certificate": what a TCB status means and why a quote was not verified.
 * Pure functions over the verifier's plain result; no verification happens here.
 */

export const STATUS_MEANING: Record<TcbStatus, string> = {
  UpToDate: 'The machine runs all of Intel’s current security updates.',
  SWHardeningNeeded: 'Patched, but the software must add mitigations listed in the advisories.',
  ConfigurationNeeded: 'Patched, but the BIOS or platform configuration must change (see the advisories).',
  ConfigurationAndSWHardeningNeeded: 'Patched, but needs both a configuration change and software mitigations.',
  OutOfDate: 'Microcode, firmware or the TDX module is behind Intel’s security updates.',
  OutOfDateConfigurationNeeded: 'Behind Intel’s security updates and needs a configuration change.',
  Revoked: 'Intel revoked this platform’s keys: never trust it.',
};

const REASONS: Record<string, string> = {
  quote_malformed: 'the quote could not be read',
  quote_unsupported: 'this kind of quote is not supported',
  collateral_malformed: 'the collateral could not be read',
  certificate_malformed: 'a certificate in the quote or collateral could not be read',
  crl_malformed: 'a revocation list could not be read',
  test_anchor_forbidden: 'this build trusts only Intel’s root, and a test root was given',
  untrusted_root: 'the certificates do not lead to Intel’s root',
  chain_invalid: 'the certificate chain is broken',
  certificate_expired: 'a certificate had expired at the verification time',
  certificate_not_yet_valid: 'a certificate was not yet valid at the verification time',
  certificate_revoked: 'Intel revoked a certificate of this platform',
  crl_invalid: 'a revocation list is not genuine or does not belong to its issuer',
  crl_expired: 'a revocation list was out of date at the verification time',
  crl_not_yet_valid: 'a revocation list was not issued yet at the verification time',
  collateral_expired: 'the collateral had expired at the verification time',
  collateral_not_yet_valid: 'the collateral was not issued yet at the verification time',
  collateral_signature_invalid: 'the collateral is not signed by Intel',
  collateral_mismatch: 'the collateral is for another kind of platform or quote',
  quote_signature_invalid: 'the quote’s signature is wrong (it was altered)',
  qe_report_signature_invalid: 'the quoting enclave’s report is not signed by the platform’s key',
  qe_report_binding_invalid: 'the attestation key is not bound to the quoting enclave',
  qe_identity_mismatch: 'the quoting enclave is not the one Intel lists',
  fmspc_mismatch: 'the collateral is for another CPU family (FMSPC)',
  pceid_mismatch: 'the collateral is for another platform (PCE id)',
  tcb_level_not_found: 'no TCB level matches this machine (its firmware is older than every level Intel lists)',
  tdx_module_mismatch: 'the TDX module is not one Intel lists',
  tcb_revoked: 'Intel revoked this platform',
  td_debug: 'the TD runs in debug mode, so the host can read its memory',
  td_attributes_invalid: 'the TD has attributes that are not allowed',
  policy_rejected: 'its TCB status is not accepted by the policy',
  event_log_malformed: 'the event log could not be read',
  event_log_mismatch: 'the event log does not match the measurements in the quote',
  identity_mismatch: 'the app is not the expected one',
  report_data_mismatch: 'the report data is not the expected value',
  collateral_fetch_failed: 'the collateral could not be fetched',
  verifier_failed: 'the verifier failed',
  verifier_timeout: 'the verifier took too long and was stopped',
};

/** "no TCB level matches this machine …" for a code; the verifier's own message for codes we do not know. */
export function reasonInWords(error: { code: string; message: string }): string {
  return REASONS[error.code] ?? error.message;
}

/** The big line of the certificate. */
export function verdictLine(v: QuoteVerification): string {
  const what = v.teeType === 'SGX' ? 'Intel SGX' : 'Intel TDX';
  if (v.verified) {
    return v.testTrustAnchor ? `Verified against a TEST root (not Intel’s): ${what}` : `Verified: genuine ${what}`;
  }
  // Genuine but stale is still "Not verified": nothing is trusted or sealed on out-of-date collateral.
  if (v.staleCollateral) {
    return v.testTrustAnchor
      ? `Not verified: signed under a TEST root (not Intel’s), and its collateral is out of date`
      : `Not verified: genuine ${what} quote, but its collateral is out of date`;
  }
  return `Not verified: ${v.error ? reasonInWords(v.error) : 'the verifier gave no reason'}`;
}

/**
 * Input that could not be read at all: nothing to certify, so the page shows an alert instead of a certificate.
 * A quote that parses but fails a check is a certificate with a "Not verified" verdict.
 */
export function isUnreadableInput(v: QuoteVerification): boolean {
  if (!v.error || v.teeType !== null) return false;
  return [
    'quote_malformed',
    'quote_unsupported',
    'collateral_malformed',
    'collateral_fetch_failed',
    'event_log_malformed',
    'verifier_failed',
    'verifier_timeout',
  ].includes(v.error.code);
}

/**
 * The verifier's check ids (lib/attest/verify.ts) that together prove the quote was signed by hardware Intel's root
 * certified: the pinned root, its CRL, the PCK chain and CRL, the QE report and the quote signature.
 */
export const INTEL_SIGNATURE_CHECKS = [
  'root',
  'quote-root',
  'root-crl',
  'pck-chain',
  'pck-crl',
  'qe-report',
  'qe-binding',
  'quote-signature',
];

export type IntelSignature = 'yes' | 'no' | 'not-checked' | 'test-root';

/**
 * Whether the quote was proven signed under Intel's root. A rejection after these checks (no TCB level, debug TD,
 * policy) still had a genuine signature; a verification that stopped before them proved nothing either way.
 */
export function signedByIntel(v: QuoteVerification): IntelSignature {
  if (v.testTrustAnchor) return 'test-root';
  // The verifier proved every signature up to Intel's root with only the collateral dates set aside.
  if (v.staleCollateral) return 'yes';
  const relevant = v.checks.filter((c) => INTEL_SIGNATURE_CHECKS.includes(c.id));
  if (relevant.some((c) => !c.ok)) return 'no';
  if (relevant.length === INTEL_SIGNATURE_CHECKS.length) return 'yes';
  return 'not-checked';
}

/** The window in which every collateral document was valid together (latest issue .. earliest expiry); null if none. */
export function collateralWindow(v: QuoteVerification): { from: string; to: string } | null {
  const c = v.collateral;
  if (!c) return null;
  const latest = (dates: string[]): string => dates.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
  const earliest = (dates: string[]): string => dates.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
  const from = latest([c.tcbInfoIssueDate, c.qeIdentityIssueDate, c.pckCrlThisUpdate, c.rootCrlThisUpdate]);
  const to = earliest([c.tcbInfoNextUpdate, c.qeIdentityNextUpdate, c.pckCrlNextUpdate, c.rootCrlNextUpdate]);
  // Documents from different refreshes may never overlap (e.g. an old root CRL): then there is no window.
  return Date.parse(from) <= Date.parse(to) ? { from, to } : null;
}

/** "91eb2b44d141d4ec…118b7": enough to compare by eye, the full value is in Details. */
export function shortHex(hex: string | null | undefined, head = 16, tail = 6): string {
  if (!hex) return '—';
  return hex.length <= head + tail + 1 ? hex : `${hex.slice(0, head)}…${hex.slice(-tail)}`;
}

/** "2025-07-01 00:00:00 UTC": the same reading for everyone, since collateral dates are UTC. */
export function utc(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "TCB info, QE identity and PCK CRL": the out-of-window documents, in a sentence. */
export function listInWords(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** What is out of date, in words: "The TCB info and PCK CRL had expired at 2025-08-01 00:00:00 UTC." */
export function staleSentence(v: QuoteVerification): string | null {
  const stale = v.staleCollateral;
  if (!stale) return null;
  const expired = stale.outOfWindow.filter((d) => d.state === 'expired').map((d) => d.label);
  const early = stale.outOfWindow.filter((d) => d.state === 'not-yet-valid').map((d) => d.label);
  const parts = [
    ...(expired.length ? [`the ${listInWords(expired)} had expired`] : []),
    ...(early.length ? [`the ${listInWords(early)} ${early.length > 1 ? 'were' : 'was'} not issued yet`] : []),
  ];
  const text = `At ${utc(v.verifiedAt)} ${parts.join(', and ')}.`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The verification time as typed: ISO 8601 in UTC ("2025-07-01T00:00:00Z"; "T" or a space; seconds, fraction and
 * the "Z" / "+00:00" suffix optional; a date alone is midnight UTC). Any other offset, or a field out of range, is
 * refused with a reason rather than guessed: the field says UTC, so a local time must not slip through.
 */
export function parseUtcInput(value: string): { ok: true; date: Date } | { ok: false; error: string } {
  const text = value.trim();
  const example = 'e.g. 2025-07-01T00:00:00Z';
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
    text,
  );
  if (!m) return { ok: false, error: `The verification time must be an ISO 8601 UTC time (${example}).` };
  const offset = m[8];
  if (offset && !/^(z|[+-]00:?00)$/i.test(offset)) {
    return { ok: false, error: `The verification time must be in UTC: end it with "Z", not ${offset} (${example}).` };
  }
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => +(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = m[7] ? Math.round(parseFloat(m[7]) * 1000) : 0;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  // Date.UTC rolls over (month 13, 25 o'clock): refuse instead of reading another time.
  const exact =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s;
  if (!exact) return { ok: false, error: `The verification time "${text}" is not a real date and time (${example}).` };
  return { ok: true, date };
}

/** "2025-07-19T10:00:35Z": how the time field shows a time the page chose (a fix's historical check). */
export function utcInputValue(iso: string): string {
  return new Date(iso).toISOString().replace('.000Z', 'Z');
}
