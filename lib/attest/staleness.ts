import type {
  CollateralDates,
  CollateralDocumentWindow,
  CollateralStaleness,
  QuoteVerification,
  VerificationCheck,
} from './types';

/**
 * Genuine-but-stale vs not-Intel (issue 15). Collateral expires every ~30 days, so a genuine quote checked with
 * last month's collateral fails on a date. That failure must not read like a forgery, and must not become a pass.
 * Pure functions over the verifier's plain results; verify.ts runs the diagnosis pass and calls these.
 */

/** Failure codes that are only about a collateral document's dates, never about who signed what. */
export const COLLATERAL_DATE_CODES: ReadonlySet<string> = new Set([
  'collateral_expired',
  'collateral_not_yet_valid',
  'crl_expired',
  'crl_not_yet_valid',
]);

/**
 * Every check that proves a signature from the quote up to the trusted root, collateral included. The diagnosis
 * pass must pass ALL of them (and run them: a pass that stopped earlier proved nothing) before "stale" is said.
 */
export const GENUINE_PROOF_CHECKS = [
  'root',
  'quote-root',
  'root-crl',
  'tcb-info',
  'qe-identity',
  'pck-chain',
  'pck-crl',
  'qe-report',
  'qe-binding',
  'quote-signature',
] as const;

/** True when every signature check ran and passed in `checks`. */
export function provesGenuine(checks: readonly VerificationCheck[]): boolean {
  return GENUINE_PROOF_CHECKS.every((id) => checks.some((c) => c.id === id && c.ok));
}

/** The four documents' windows, labelled. */
export function documentWindows(c: CollateralDates): Array<Omit<CollateralDocumentWindow, 'state'>> {
  return [
    { id: 'tcb-info', label: 'TCB info', from: c.tcbInfoIssueDate, to: c.tcbInfoNextUpdate },
    { id: 'qe-identity', label: 'QE identity', from: c.qeIdentityIssueDate, to: c.qeIdentityNextUpdate },
    { id: 'pck-crl', label: 'PCK CRL', from: c.pckCrlThisUpdate, to: c.pckCrlNextUpdate },
    { id: 'root-crl', label: 'Root CA CRL', from: c.rootCrlThisUpdate, to: c.rootCrlNextUpdate },
  ];
}

/**
 * Which documents are out of their window at `now`, the window they share, and the time inside it nearest `now`
 * (bounds are inclusive, as the verifier checks them). Null when every document is current at `now` or a date
 * is missing: then the failure was not about collateral dates.
 */
export function describeStaleness(dates: CollateralDates, now: Date): CollateralStaleness | null {
  const t = now.getTime();
  const docs = documentWindows(dates).map((d) => ({ ...d, fromMs: Date.parse(d.from), toMs: Date.parse(d.to) }));
  if (docs.some((d) => Number.isNaN(d.fromMs) || Number.isNaN(d.toMs))) return null;
  const outOfWindow: CollateralDocumentWindow[] = docs
    .filter((d) => t < d.fromMs || t > d.toMs)
    .map(({ id, label, from, to, fromMs }) => ({
      id,
      label,
      from,
      to,
      state: t < fromMs ? 'not-yet-valid' : 'expired',
    }));
  if (!outOfWindow.length) return null;
  const from = Math.max(...docs.map((d) => d.fromMs));
  const to = Math.min(...docs.map((d) => d.toMs));
  if (from > to) return { outOfWindow, window: null, suggestedTime: null };
  const suggested = Math.min(Math.max(t, from), to);
  return {
    outOfWindow,
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    suggestedTime: new Date(suggested).toISOString(),
  };
}

/**
 * Combines the failed verification at `now` with the diagnosis pass (same inputs, collateral dates set aside):
 * stale only when the first failure was a collateral date and the diagnosis proved every signature.
 */
export function classifyStale(atNow: QuoteVerification, diagnosis: QuoteVerification): CollateralStaleness | null {
  if (atNow.verified || !atNow.error || !COLLATERAL_DATE_CODES.has(atNow.error.code)) return null;
  if (!diagnosis.collateral || !provesGenuine(diagnosis.checks)) return null;
  if (diagnosis.testTrustAnchor !== atNow.testTrustAnchor) return null;
  return describeStaleness(diagnosis.collateral, new Date(atNow.verifiedAt));
}
