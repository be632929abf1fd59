import type { QuoteVerification } from '../../lib/attest/types';
import { staleSentence, utc } from './tee-certificate-wording';

/** The two one-click fixes the TEE certificate page offers for stale collateral (absent where none applies). */
export interface StaleCollateralFixes {
  /** Re-fetches the collateral from this PCCS and verifies again at the same time. */
  fetchFresh?: { pccsUrl: string; run: () => void };
  /** Verifies again at `iso` (a time inside the collateral window): a historical check, labelled as such. */
  verifyAt?: (iso: string) => void;
  busy?: boolean;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Genuine-but-stale, spelled out: which documents are outside their validity, the window in which all are valid
 * together, and the fixes. The verdict above stays "Not verified": a stale result is never trusted for sealing.
 */
export function StaleCollateral({ v, fixes }: { v: QuoteVerification; fixes?: StaleCollateralFixes }) {
  const stale = v.staleCollateral;
  if (!stale) return null;
  const suggested = stale.suggestedTime;
  return (
    <section class="tee-stale stack-tight" aria-labelledby="tee-stale-title">
      <h3 id="tee-stale-title">Collateral out of date</h3>
      <p class="small-text">
        Every signature, from the quote up to {v.testTrustAnchor ? 'the test root' : 'Intel’s root'}, checks out. Only
        Intel’s collateral — the documents that say which platforms are current — is outside its validity. Until it is
        fresh, this quote is not trusted and nothing is sealed to it.
      </p>
      <p class="small-text">{staleSentence(v)}</p>
      <ul class="tee-stale-docs small-text" aria-label="Out-of-date collateral">
        {stale.outOfWindow.map((d) => (
          <li key={d.id}>
            {d.label}: valid {utc(d.from)} to {utc(d.to)} — {d.state === 'expired' ? 'expired' : 'not issued yet'}
          </li>
        ))}
      </ul>
      <p class="small-text" data-testid="tee-collateral-window">
        {stale.window
          ? `Collateral window (all documents valid): ${utc(stale.window.from)} to ${utc(stale.window.to)}.`
          : 'These documents were never valid at the same time: only fresh collateral can verify this quote.'}
      </p>
      {fixes && (fixes.fetchFresh || (fixes.verifyAt && suggested)) ? (
        <div class="actions">
          {fixes.fetchFresh ? (
            <button type="button" class="primary" disabled={fixes.busy} onClick={fixes.fetchFresh.run}>
              Fetch fresh collateral from {hostOf(fixes.fetchFresh.pccsUrl)}
            </button>
          ) : null}
          {fixes.verifyAt && suggested ? (
            <button type="button" disabled={fixes.busy} onClick={() => fixes.verifyAt!(suggested)}>
              Verify at {utc(suggested)} (historical check)
            </button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
