import { useCallback, useEffect, useState } from 'preact/hooks';
import type { DeploymentRecord, TrustPins } from '../../lib/deploy/types';
import type { CvmVerdict } from '../../lib/deploy/verify-cvm';
import { listDeployments, loadTrustPins } from '../../lib/deploy/vault-records';
import type { CvmTrustChecker } from '../../workers/attest-api';
import { sharedAttestRunner } from '../../workers/attest-runner';
import { ErrorAlert } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { DeployDashboard } from './deploy-dashboard';
import type { RequestHostAccess } from './deploy-wiring';
import { DeployWizard } from './deploy-wizard';
import { useDraftState, type DeployDraft } from './deploy-draft';
import { errorMessage } from '../../lib/errors';

interface DeployTabProps {
  /** The wizard's draft, owned above the tabs so leaving this tab keeps it (absent: it lasts while mounted). */
  draft?: DeployDraft;
  /** Runs the trust gate and the sealer; default: the page's attest worker. */
  checker?: CvmTrustChecker;
  /** Extension only: optional host permission for the provider's API origin. */
  requestApiAccess?: RequestHostAccess;
  /** Extension only: optional host permission for the PCCS origin. */
  requestPccsAccess?: RequestHostAccess;
}

/**
 * "Deploy" tab: the wizard, then one dashboard per deployment. Deployments and trust pins are vault items, so
 * they are encrypted at rest, locked with the vault and carried by backups.
 */
export function DeployTab({ draft, checker, requestApiAccess, requestPccsAccess }: DeployTabProps) {
  const vault = useVaultClient();
  const runner = checker ?? sharedAttestRunner();
  const [deployments, setDeployments] = useState<Array<{ itemId: string; record: DeploymentRecord }> | null>(null);
  const [trust, setTrust] = useState<{ itemId: string; pins: TrustPins } | null>(null);
  const [wizard, setWizard] = useDraftState(draft, 'tab.wizard', false);
  const [fresh, setFresh] = useState<{ itemId: string; verdict: CvmVerdict } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      const [list, pins] = await Promise.all([listDeployments(vault), loadTrustPins(vault)]);
      setDeployments(list);
      setTrust(pins);
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
      setDeployments((d) => d ?? []);
    }
  }, [vault]);

  useEffect(() => {
    void reload();
  }, [reload]);

  if (!deployments) return <p class="muted">Loading…</p>;
  // A wizard left half-way (its draft has a step) comes back as it was, even once deployments exist (issue 15).
  const showWizard = wizard || deployments.length === 0 || !!draft?.has('wizard.step');

  return (
    <div class="stack deploy">
      <ErrorAlert message={error} />
      {showWizard ? (
        <DeployWizard
          checker={runner}
          trust={trust}
          onTrustSaved={setTrust}
          onDeployed={(result) => {
            setDeployments((list) => [...(list ?? []), { itemId: result.itemId, record: result.record }]);
            setFresh({ itemId: result.itemId, verdict: result.verdict });
            draft?.clear();
            setWizard(false);
          }}
          onCancel={
            deployments.length
              ? () => {
                  draft?.clear();
                  setWizard(false);
                }
              : undefined
          }
          onClose={() => {
            draft?.clear();
            setWizard(false);
            void reload();
          }}
          draft={draft}
          requestApiAccess={requestApiAccess}
          requestPccsAccess={requestPccsAccess}
        />
      ) : (
        <>
          <div class="actions">
            <button type="button" onClick={() => setWizard(true)}>
              New deployment
            </button>
          </div>
          {!trust ? (
            <p class="alert alert-error">
              The trust settings are missing from the vault; deployments cannot be verified until they are set again
              (New deployment → Trust).
            </p>
          ) : null}
          {trust
            ? deployments.map(({ itemId, record }) => (
                <DeployDashboard
                  key={itemId}
                  itemId={itemId}
                  record={record}
                  trust={trust.pins}
                  checker={runner}
                  initialVerdict={fresh?.itemId === itemId ? fresh.verdict : null}
                  requestApiAccess={requestApiAccess}
                  onRecordChanged={(next) =>
                    setDeployments((list) =>
                      (list ?? []).map((d) => (d.itemId === itemId ? { itemId, record: next } : d)),
                    )
                  }
                  onDestroyed={() => setDeployments((list) => (list ?? []).filter((d) => d.itemId !== itemId))}
                />
              ))
            : null}
        </>
      )}
    </div>
  );
}
