import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { envCandidates, type EnvCandidate } from '../../lib/deploy/env-prefill';
import {
  deploymentOperations,
  scheduleReverify,
  type DeploymentOperations,
  type DeploymentStatus,
} from '../../lib/deploy/operations';
import type { StepStatus } from '../../lib/deploy/steps';
import type { DeploymentRecord, TrustPins } from '../../lib/deploy/types';
import type { CvmVerdict } from '../../lib/deploy/verify-cvm';
import { resolveEnv, saveDeployment } from '../../lib/deploy/vault-records';
import type { CvmTrustChecker } from '../../workers/attest-api';
import { ErrorAlert, Notice } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { choicesToSources, EnvFields, initialChoices, type EnvChoices } from './deploy-env-fields';
import { DeployProgress } from './deploy-progress';
import { DeployTrustReport } from './deploy-trust-report';
import { isUnboundQuoteRefusal, UNBOUND_QUOTE_WARNING } from '../../lib/seal/trust-gate';
import { deployDeps, phalaClientFor, type RequestHostAccess } from './deploy-wiring';
import { TeeCertificateView } from '../tee/tee-certificate-view';
import { useAction } from '../shared/use-action';

interface DashboardProps {
  itemId: string;
  record: DeploymentRecord;
  trust: TrustPins;
  checker: CvmTrustChecker;
  /** The verdict the deploy just reached, so the page does not attest twice in a row. */
  initialVerdict?: CvmVerdict | null;
  requestApiAccess?: RequestHostAccess;
  onRecordChanged: (record: DeploymentRecord) => void;
  onDestroyed: () => void;
}

function formatUptime(seconds: number | null): string {
  if (seconds === null) return '—';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
}

/**
 * One deployment: status and uptime, the attestation verdict and when it was last verified (re-verified every
 * hour while this page is open, and on demand), logs, restart, update secrets (re-verified, then re-sealed) and
 * destroy. Each call reads the API key from the vault; nothing secret is kept in component state.
 */
export function DeployDashboard({
  itemId,
  record,
  trust,
  checker,
  initialVerdict,
  requestApiAccess,
  onRecordChanged,
  onDestroyed,
}: DashboardProps) {
  const vault = useVaultClient();
  const [status, setStatus] = useState<DeploymentStatus | null>(null);
  const [verdict, setVerdict] = useState<CvmVerdict | null>(initialVerdict ?? null);
  const [logs, setLogs] = useState<string[] | null>(null);
  const [updating, setUpdating] = useState<{ candidates: EnvCandidate[]; choices: EnvChoices } | null>(null);
  /** The deliberate override of a provider-served quote (only offered when that is the one refusal). */
  const [override, setOverride] = useState(false);
  const [updateSteps, setUpdateSteps] = useState<StepStatus[] | null>(null);
  const [confirmDestroy, setConfirmDestroy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const statusAction = useAction();
  const verifyAction = useAction();
  const action = useAction();
  const recordRef = useRef(record);
  recordRef.current = record;

  const ops = useCallback(async (): Promise<DeploymentOperations> => {
    const cloud = await phalaClientFor(vault, record.apiKeyItemId, record.apiBaseUrl, requestApiAccess);
    return deploymentOperations(record, trust, deployDeps(cloud, checker));
  }, [vault, record, trust, checker, requestApiAccess]);

  const refresh = useCallback(async () => {
    await statusAction.run(async () => setStatus(await (await ops()).status()));
  }, [ops]);

  const persistVerdict = async (v: CvmVerdict): Promise<void> => {
    const next: DeploymentRecord = {
      ...recordRef.current,
      lastVerifiedAt: new Date(v.verifiedAt).toISOString(),
      lastVerdict: v.report.trusted
        ? { trusted: true }
        : {
            trusted: false,
            ...(v.report.failed ? { failedCheck: v.report.failed.id, message: v.report.failed.message } : {}),
          },
    };
    await saveDeployment(vault, next, itemId);
    onRecordChanged(next);
  };

  const reverify = useCallback(async () => {
    await verifyAction.run(async () => {
      const v = await (await ops()).reverify();
      setVerdict(v);
      await persistVerdict(v);
    });
  }, [ops]);

  useEffect(() => {
    void refresh();
  }, [refresh]);
  // Hourly while the page is open; the clock starts from the last verification, wherever it happened.
  const lastVerifiedMs = record.lastVerifiedAt ? Date.parse(record.lastVerifiedAt) : null;
  useEffect(() => scheduleReverify(reverify, { lastVerifiedAt: lastVerifiedMs }), [reverify, lastVerifiedMs]);

  const showLogs = (): Promise<unknown> => action.run(async () => setLogs(await (await ops()).logs(200)));
  const restart = (): Promise<unknown> =>
    action.run(async () => {
      await (await ops()).restart();
      setNotice('Restart requested.');
      await refresh();
    });

  const startUpdate = (): Promise<unknown> =>
    action.run(async () => {
      const summaries = await vault.list();
      const items = await Promise.all(summaries.map((s) => vault.get(s.id)));
      const candidates = envCandidates(items);
      setUpdating({ candidates, choices: initialChoices(record.envSpec, candidates, record.envSources) });
      setUpdateSteps(null);
    });

  const submitUpdate = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!updating) return;
    const { sources, missing } = choicesToSources(record.envSpec, updating.choices, updating.candidates);
    if (missing.length) return action.setError(`Required: ${missing.join(', ')}.`);
    const result = await action.run(async () => {
      const env = await resolveEnv(vault, sources);
      try {
        return await (await ops()).updateSecrets(env, setUpdateSteps, { acceptUnboundQuote: overridable && override });
      } catch (err) {
        // Re-verification refused: the dashboard's verdict must say so too.
        void reverify();
        throw err;
      }
    });
    if (!result.ok) return;
    setVerdict(result.value);
    const { secretsSent: _none, ...rest } = recordRef.current;
    const next: DeploymentRecord = {
      ...rest,
      envSources: sources,
      appCompose: result.value.appCompose,
      lastVerifiedAt: new Date(result.value.verifiedAt).toISOString(),
      lastVerdict: { trusted: true },
      // Kept for good: which CVM, which quote, when, and the warning the person accepted.
      ...(result.value.override ? { quoteOverrides: [...(rest.quoteOverrides ?? []), result.value.override] } : {}),
    };
    await saveDeployment(vault, next, itemId);
    onRecordChanged(next);
    setUpdating(null);
    setOverride(false);
    setNotice('Secrets updated: re-verified, re-sealed and sent.');
    await refresh();
  };

  const destroy = async (): Promise<void> => {
    const result = await action.run(async () => {
      await (await ops()).destroy();
      await vault.remove(itemId);
    });
    if (result.ok) onDestroyed();
  };

  const lastVerified = record.lastVerifiedAt ?? null;
  const verdictReport = verdict?.report ?? null;
  const overridable = verdictReport ? isUnboundQuoteRefusal(verdictReport) : false;
  const statusWord = status?.status ?? '…';
  const headingId = useMemo(() => `deploy-dash-${itemId}`, [itemId]);

  return (
    <section class="card stack deploy-dashboard" aria-labelledby={headingId}>
      <h2 id={headingId}>{record.name}</h2>
      <dl class="details deploy-facts">
        <dt>Status</dt>
        <dd data-testid="deploy-status">{statusWord}</dd>
        <dt>Uptime</dt>
        <dd>{formatUptime(status?.uptimeSeconds ?? null)}</dd>
        <dt>App id</dt>
        <dd>
          <code>{record.appId}</code>
        </dd>
        <dt>CVM</dt>
        <dd>
          <code>{record.cvmId}</code>
        </dd>
        <dt>Attestation</dt>
        <dd>
          {record.lastVerdict
            ? record.lastVerdict.trusted
              ? 'Verified'
              : `Not trusted (failed check “${record.lastVerdict.failedCheck ?? '?'}”)`
            : 'Not verified yet'}
        </dd>
        <dt>Last verified at</dt>
        <dd data-testid="deploy-last-verified">
          {lastVerified ? `${lastVerified.replace('T', ' ').slice(0, 19)} UTC` : 'never'}
        </dd>
      </dl>
      {record.secretsSent === false ? (
        <p class="alert alert-error" data-testid="deploy-untrusted">
          This CVM failed verification when it was deployed, so no secret was sent to it. It runs without secrets:
          destroy it, or re-verify and update secrets if the cause is fixed.
        </p>
      ) : null}
      {record.quoteOverrides?.length ? (
        <div class="alert stack" data-testid="deploy-overrides" aria-label="Recorded overrides">
          <strong>Sealed by your override (quote not challenge-bound)</strong>
          <ul class="small-text">
            {record.quoteOverrides.map((o) => (
              <li key={`${o.at}-${o.quoteSha256}`}>
                {o.at.replace('T', ' ').slice(0, 19)} UTC · CVM <code>{o.cvmId}</code> · quote SHA-256{' '}
                <code>{o.quoteSha256.slice(0, 16)}…</code>
                <span class="muted"> {o.warning}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <ErrorAlert message={statusAction.error} />
      <div class="actions">
        <button type="button" onClick={() => void refresh()} disabled={statusAction.busy}>
          Refresh status
        </button>
        <button type="button" onClick={() => void reverify()} disabled={verifyAction.busy}>
          {verifyAction.busy ? 'Verifying…' : 'Re-verify'}
        </button>
        <button type="button" onClick={() => void showLogs()} disabled={action.busy}>
          Show logs
        </button>
        <button type="button" onClick={() => void restart()} disabled={action.busy}>
          Restart
        </button>
        <button type="button" onClick={() => void startUpdate()} disabled={action.busy || !!updating}>
          Update secrets
        </button>
        <button type="button" class="danger-outline" onClick={() => setConfirmDestroy(true)} disabled={action.busy}>
          Destroy
        </button>
      </div>
      <ErrorAlert message={verifyAction.error} />
      <ErrorAlert message={action.error} />
      {notice ? <Notice>{notice}</Notice> : null}
      {confirmDestroy ? (
        <div class="confirm" role="group" aria-label="Confirm destroy">
          <span>Destroy the CVM “{record.name}”? It stops and is deleted at the provider; this cannot be undone.</span>
          <button type="button" class="danger" onClick={() => void destroy()} disabled={action.busy} autoFocus>
            Yes, destroy it
          </button>
          <button type="button" onClick={() => setConfirmDestroy(false)} disabled={action.busy}>
            Keep it
          </button>
        </div>
      ) : null}
      {updating ? (
        <form class="stack" onSubmit={submitUpdate} aria-label="Update secrets" noValidate>
          <h3>Update secrets</h3>
          <p class="muted small-text">
            The CVM is verified again first; the whole env set is then sealed to it and replaces the old one.
          </p>
          <EnvFields
            spec={record.envSpec}
            candidates={updating.candidates}
            choices={updating.choices}
            onChange={(choices) => setUpdating({ ...updating, choices })}
            disabled={action.busy}
          />
          {overridable ? (
            <div
              class="alert alert-error stack"
              role="group"
              aria-label="Quote not challenge-bound"
              data-testid="deploy-override"
            >
              <strong>The CVM could not answer a fresh challenge.</strong>
              <span>{UNBOUND_QUOTE_WARNING}</span>
              <label>
                <input
                  type="checkbox"
                  checked={override}
                  onChange={(e) => setOverride(e.currentTarget.checked)}
                  disabled={action.busy}
                />{' '}
                Seal to this CVM anyway. I accept the risk; this override is recorded with the quote’s hash.
              </label>
            </div>
          ) : null}
          {updateSteps ? <DeployProgress steps={updateSteps} label="Update progress" /> : null}
          <div class="actions">
            <button type="button" onClick={() => setUpdating(null)} disabled={action.busy}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={action.busy}>
              Re-verify and update secrets
            </button>
          </div>
        </form>
      ) : null}
      {logs ? (
        <pre class="json deploy-logs" aria-label="CVM logs">
          {logs.join('\n') || '(no log lines)'}
        </pre>
      ) : null}
      {verdictReport ? (
        <>
          <DeployTrustReport report={verdictReport} verifiedAt={verdict?.verifiedAt} />
          <TeeCertificateView verification={verdictReport.verification} />
        </>
      ) : null}
    </section>
  );
}
