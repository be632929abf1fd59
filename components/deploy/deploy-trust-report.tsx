import { NOT_CHALLENGE_BOUND, UNBOUND_QUOTE_WARNING, type TrustReport } from '../../lib/seal/trust-gate';

/** The trust gate's verdict and every check it made, failed ones marked and named by id. */
export function DeployTrustReport({
  report,
  verifiedAt,
  omitMessage,
}: {
  report: TrustReport;
  verifiedAt?: string | number | null;
  /** A refusal sentence the caller already shows (its alert): not repeated here. */
  omitMessage?: string;
}) {
  const shown = (message: string | undefined): boolean => !!message && !omitMessage?.includes(message);
  const when = verifiedAt ? new Date(verifiedAt) : null;
  return (
    <section class="stack deploy-trust" aria-label="Attestation verdict">
      <p role="status" class={`tee-verdict ${report.trusted ? 'tee-verdict-ok' : 'tee-verdict-bad'}`}>
        {report.trusted
          ? `Attestation verified: all ${report.checks.length} checks passed`
          : `Not trusted: failed check “${report.failed?.id ?? 'quote'}”`}
      </p>
      {!report.trusted && report.failed && shown(report.failed.message) ? (
        <p class="small-text">{report.failed.message}</p>
      ) : null}
      {report.challengeBound === false ? (
        <p class="small-text deploy-freshness" data-testid="deploy-freshness">
          Freshness: {NOT_CHALLENGE_BOUND}.{' '}
          {report.overridden
            ? `Sealed only by your recorded override: ${report.overridden.warning}`
            : UNBOUND_QUOTE_WARNING}
        </p>
      ) : report.challengeBound ? (
        <p class="small-text muted deploy-freshness" data-testid="deploy-freshness">
          Freshness: the quote answers our one-time challenge (nonce bound to the env key).
        </p>
      ) : null}
      {when ? (
        <p class="small-text muted">Last verified at {when.toISOString().replace('T', ' ').slice(0, 19)} UTC</p>
      ) : null}
      <ul class="tee-checks" aria-label="Trust checks">
        {report.checks.map((c) => (
          <li key={c.id} class={c.ok ? 'tee-yes' : 'tee-no'} data-check={c.id}>
            <span aria-hidden="true">{c.ok ? '✓' : '✗'}</span> {c.label} <code class="small-text">{c.id}</code>
            <span class="visually-hidden">{c.ok ? ' (passed)' : ' (failed)'}</span>
            {!c.ok && shown(c.detail) ? <span class="small-text muted"> {c.detail}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
