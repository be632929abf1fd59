import { useEffect, useMemo, useState } from 'preact/hooks';
import exampleManifest from '../../examples/openclaw-tee.json';
import { expectedComposeOf, runDeploy, type DeployOutcome } from '../../lib/deploy/deploy-flow';
import { envCandidates, type EnvCandidate } from '../../lib/deploy/env-prefill';
import type { StepStatus } from '../../lib/deploy/steps';
import type { DeploymentRecord, TrustPins } from '../../lib/deploy/types';
import type { CvmVerdict } from '../../lib/deploy/verify-cvm';
import { resolveEnv, saveApiKeySecret, saveDeployment } from '../../lib/deploy/vault-records';
import { isReservedTag } from '../../lib/storage/vault-tags';
import { buildAppCompose, parseManifest, type Manifest } from '../../lib/providers/manifest';
import { PHALA_CLOUD_API_URL, type PhalaClient } from '../../lib/providers/phala/client';
import type { ItemSummary, VaultItem } from '../../lib/vault/types';
import type { CvmTrustChecker } from '../../workers/attest-api';
import { ErrorAlert, Notice } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { choicesToSources, EnvFields, initialChoices, type EnvChoices } from './deploy-env-fields';
import { DeployProgress } from './deploy-progress';
import { isUnboundQuoteRefusal } from '../../lib/seal/trust-gate';
import { DeployTrustReport } from './deploy-trust-report';
import { DeployTrustSettings } from './deploy-trust-settings';
import { deployDeps, phalaClientFor, type RequestHostAccess } from './deploy-wiring';
import { Field, TextArea } from '../shared/field';
import { TeeCertificateView } from '../tee/tee-certificate-view';
import { useAction } from '../shared/use-action';
import { useDraftState, type DeployDraft } from './deploy-draft';
import { errorMessage } from '../../lib/errors';

const EXAMPLE_MANIFEST = JSON.stringify(exampleManifest, null, 2);
const PASTE = '__paste__';
const STEP_TITLES = ['Phala Cloud API key', 'Configure', 'Trust', 'Deploy'] as const;

interface WizardConfig {
  manifestText: string;
  manifest: Manifest;
  name: string;
  choices: EnvChoices;
  candidates: EnvCandidate[];
}

export interface DeployedResult {
  itemId: string;
  record: DeploymentRecord;
  verdict: CvmVerdict;
}

interface WizardProps {
  checker: CvmTrustChecker;
  trust: { itemId: string; pins: TrustPins } | null;
  onTrustSaved: (saved: { itemId: string; pins: TrustPins }) => void;
  onDeployed: (result: DeployedResult) => void;
  onCancel?: () => void;
  /** Leaves the wizard after a refusal, for the deployments list. */
  onClose?: () => void;
  requestApiAccess?: RequestHostAccess;
  requestPccsAccess?: RequestHostAccess;
  /** Keeps the wizard's progress while the Deploy tab is left (see deploy-draft.ts). */
  draft?: DeployDraft;
}

/** API key → Configure → Trust → Deploy. Secrets are read from the vault only for the deploy itself. */
export function DeployWizard({
  checker,
  trust,
  onTrustSaved,
  onDeployed,
  onCancel,
  onClose,
  requestApiAccess,
  requestPccsAccess,
  draft,
}: WizardProps) {
  useVaultClient(); // must render inside the vault client's context (throws otherwise), as before
  const [step, setStep] = useDraftState(draft, 'wizard.step', 0);
  const [connection, setConnection] = useDraftState<{
    cloud: PhalaClient;
    apiKeyItemId: string;
    baseUrl: string;
    username: string;
  } | null>(draft, 'wizard.connection', null);
  const [config, setConfig] = useDraftState<WizardConfig | null>(draft, 'wizard.config', null);

  return (
    <div class="stack deploy-wizard">
      <ol class="deploy-wizard-nav" aria-label="Deploy wizard steps">
        {STEP_TITLES.map((t, i) => (
          <li
            key={t}
            aria-current={i === step ? 'step' : undefined}
            class={i === step ? 'current' : i < step ? 'done' : ''}
          >
            {i + 1}. {t}
          </li>
        ))}
      </ol>
      {step === 0 ? (
        <ApiKeyStep
          draft={draft}
          requestApiAccess={requestApiAccess}
          onDone={(c) => {
            setConnection(c);
            setStep(1);
          }}
          onCancel={onCancel}
        />
      ) : null}
      {step === 1 ? (
        <ConfigureStep
          draft={draft}
          initial={config}
          onBack={() => setStep(0)}
          onDone={(c) => {
            setConfig(c);
            setStep(2);
          }}
        />
      ) : null}
      {step === 2 && connection ? (
        <div class="stack">
          <DeployTrustSettings
            cloud={connection.cloud}
            current={trust}
            onSaved={onTrustSaved}
            requestPccsAccess={requestPccsAccess}
          />
          <div class="actions">
            <button type="button" onClick={() => setStep(1)}>
              Back
            </button>
            <button type="button" class="primary" disabled={!trust} onClick={() => setStep(3)}>
              Continue to deploy
            </button>
          </div>
        </div>
      ) : null}
      {step === 3 && connection && config && trust ? (
        <DeployStep
          connection={connection}
          config={config}
          trust={trust.pins}
          checker={checker}
          onBack={() => setStep(2)}
          onDeployed={onDeployed}
          onClose={onClose}
          draft={draft}
        />
      ) : null}
    </div>
  );
}

// ---- Step 1 ---------------------------------------------------------------------------------------------------

function ApiKeyStep({
  onDone,
  onCancel,
  requestApiAccess,
  draft,
}: {
  draft?: DeployDraft;
  onDone: (c: { cloud: PhalaClient; apiKeyItemId: string; baseUrl: string; username: string }) => void;
  onCancel?: () => void;
  requestApiAccess?: RequestHostAccess;
}) {
  const vault = useVaultClient();
  const [secrets, setSecrets] = useState<ItemSummary[] | null>(null);
  const [choice, setChoice] = useDraftState<string>(draft, 'key.choice', PASTE);
  // The pasted key is a secret: component state only, never the draft.
  const [pasted, setPasted] = useState('');
  const [saveAs, setSaveAs] = useDraftState(draft, 'key.saveAs', 'Phala Cloud API key');
  const [baseUrl, setBaseUrl] = useDraftState(draft, 'key.baseUrl', PHALA_CLOUD_API_URL);
  const action = useAction();

  useEffect(() => {
    void vault.list().then((items) => {
      const list = items.filter((i) => i.kind === 'secret' && !i.tags.some(isReservedTag));
      setSecrets(list);
      const likely = list.find((i) => /phala/i.test(i.name) || i.tags.includes('phala'));
      // A choice already made (kept in the draft) is not overridden by the guess.
      if (likely && !draft?.has('key.choice')) setChoice(likely.id);
    });
  }, [vault]);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (choice === PASTE && !pasted.trim())
      return action.setError('Paste the API key, or choose the vault secret that holds it.');
    const result = await action.run(async () => {
      const apiKeyItemId =
        choice === PASTE
          ? await saveApiKeySecret(vault, saveAs.trim() || 'Phala Cloud API key', pasted.trim())
          : choice;
      if (choice === PASTE) {
        // From here on only the item id is remembered.
        setPasted('');
        setChoice(apiKeyItemId);
      }
      const cloud = await phalaClientFor(vault, apiKeyItemId, baseUrl.trim(), requestApiAccess);
      const user = await cloud.whoami();
      return { cloud, apiKeyItemId, baseUrl: cloud.baseUrl, username: user.username };
    });
    if (result.ok) onDone(result.value);
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="deploy-key-title" noValidate>
      <h2 id="deploy-key-title">Phala Cloud API key</h2>
      <p class="muted">The key stays in your vault; Clawkeep sends it only to the API below, in a request header.</p>
      <div class="field">
        <label for="deploy-key-source">API key</label>
        <select id="deploy-key-source" value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
          {(secrets ?? []).map((s) => (
            <option key={s.id} value={s.id}>
              Vault secret: {s.name}
            </option>
          ))}
          <option value={PASTE}>Paste a new key (saved as a vault secret)</option>
        </select>
      </div>
      {choice === PASTE ? (
        <div class="grid-2">
          <Field label="Paste the API key" type="password" value={pasted} onInput={setPasted} />
          <Field label="Save it in the vault as" value={saveAs} onInput={setSaveAs} />
        </div>
      ) : null}
      <Field label="API base URL" value={baseUrl} onInput={setBaseUrl} hint={`Default ${PHALA_CLOUD_API_URL}`} />
      <ErrorAlert message={action.error} />
      <div class="actions">
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
        <button type="submit" class="primary" disabled={action.busy}>
          {action.busy ? 'Checking the key…' : 'Continue'}
        </button>
      </div>
    </form>
  );
}

// ---- Step 2 ---------------------------------------------------------------------------------------------------

/** Every vault item, decrypted, to offer as env values (values stay in memory, never in component output). */
async function vaultCandidates(vault: ReturnType<typeof useVaultClient>): Promise<EnvCandidate[]> {
  const summaries = await vault.list();
  const items: VaultItem[] = await Promise.all(summaries.map((s) => vault.get(s.id)));
  return envCandidates(items);
}

const MAX_MANIFEST_FILE = 64 * 1024;

function ConfigureStep({
  initial,
  onBack,
  onDone,
  draft,
}: {
  draft?: DeployDraft;
  initial: WizardConfig | null;
  onBack: () => void;
  onDone: (c: WizardConfig) => void;
}) {
  const vault = useVaultClient();
  const [text, setText] = useDraftState(draft, 'config.text', initial?.manifestText ?? EXAMPLE_MANIFEST);
  const [candidates, setCandidates] = useState<EnvCandidate[] | null>(initial?.candidates ?? null);
  const [name, setName] = useDraftState(draft, 'config.name', initial?.name ?? '');
  const [choices, setChoices] = useDraftState<EnvChoices>(draft, 'config.choices', initial?.choices ?? {});
  const [error, setError] = useState<string | null>(null);

  const parsed = useMemo((): { manifest: Manifest } | { error: string } => {
    try {
      return { manifest: parseManifest(text) };
    } catch (err) {
      return { error: errorMessage(err) };
    }
  }, [text]);
  const manifest = 'manifest' in parsed ? parsed.manifest : null;

  useEffect(() => {
    void vaultCandidates(vault).then(setCandidates, () => setCandidates([]));
  }, [vault]);
  // A new manifest (or the vault values arriving) prefills the form again.
  useEffect(() => {
    if (!manifest || !candidates) return;
    setName((n) => n || manifest.name);
    setChoices((prev) => ({
      ...initialChoices(manifest.env, candidates),
      ...Object.fromEntries(Object.entries(prev).filter(([k]) => manifest.env.some((e) => e.key === k))),
    }));
  }, [manifest, candidates]);

  const loadFile = async (file: File | null): Promise<void> => {
    if (!file) return;
    if (file.size > MAX_MANIFEST_FILE) return setError(`"${file.name}" is too large to be a manifest.`);
    setError(null);
    setText(await file.text());
  };

  const submit = (e: Event): void => {
    e.preventDefault();
    if (!manifest || !candidates) return setError('Fix the manifest first.');
    const { missing } = choicesToSources(manifest.env, choices, candidates);
    if (missing.length) return setError(`Required: ${missing.join(', ')}. Pick a vault value or type one.`);
    if (!/^[a-z][a-z0-9-]{3,61}[a-z0-9]$/.test(name))
      return setError('The CVM name must be 5–63 characters of a–z, 0–9 and "-", starting with a letter.');
    setError(null);
    onDone({ manifestText: text, manifest, name, choices, candidates });
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="deploy-config-title" noValidate>
      <h2 id="deploy-config-title">Configure</h2>
      <TextArea label="Manifest (openclaw-tee.json)" value={text} onInput={setText} rows={8} mono invalid={!manifest} />
      <div class="field">
        <label for="deploy-manifest-file">Manifest file</label>
        <input
          id="deploy-manifest-file"
          type="file"
          accept=".json,application/json"
          onChange={(e) => {
            const input = e.currentTarget;
            void loadFile(input.files?.[0] ?? null);
            input.value = '';
          }}
        />
      </div>
      {'error' in parsed ? <p class="alert alert-error">{parsed.error}</p> : null}
      {manifest ? (
        <>
          <p class="muted">
            <strong>{manifest.name}</strong>: {manifest.description}
          </p>
          <Field label="CVM name" value={name} onInput={setName} />
          <h3>Environment</h3>
          {candidates ? (
            <EnvFields spec={manifest.env} candidates={candidates} choices={choices} onChange={setChoices} />
          ) : (
            <p class="muted">Reading the vault…</p>
          )}
        </>
      ) : null}
      <ErrorAlert message={error} />
      <div class="actions">
        <button type="button" onClick={onBack}>
          Back
        </button>
        <button type="submit" class="primary" disabled={!manifest || !candidates}>
          Continue
        </button>
      </div>
    </form>
  );
}

// ---- Step 4 ---------------------------------------------------------------------------------------------------

function DeployStep({
  connection,
  config,
  trust,
  checker,
  onBack,
  onDeployed,
  onClose,
  draft,
}: {
  draft?: DeployDraft;
  /** Leaves the wizard (its draft is dropped) for the deployments list, where the untrusted CVM now is. */
  onClose?: () => void;
  connection: { cloud: PhalaClient; apiKeyItemId: string; baseUrl: string; username: string };
  config: WizardConfig;
  trust: TrustPins;
  checker: CvmTrustChecker;
  onBack: () => void;
  onDeployed: (result: DeployedResult) => void;
}) {
  const vault = useVaultClient();
  const [steps, setSteps] = useDraftState<StepStatus[] | null>(draft, 'deploy.steps', null);
  const [outcome, setOutcome] = useDraftState<DeployOutcome | null>(draft, 'deploy.outcome', null);
  /** A CVM created without secrets that failed verification, saved as an untrusted deployment. */
  const [leftover, setLeftover] = useDraftState<{ itemId: string; cvmId: string; destroyed: boolean } | null>(
    draft,
    'deploy.leftover',
    null,
  );
  const action = useAction();
  const { manifest, name } = config;
  const { sources } = choicesToSources(manifest.env, config.choices, config.candidates);

  const deploy = async (): Promise<void> => {
    setOutcome(null);
    setLeftover(null);
    await action.run(async () => {
      const env = await resolveEnv(vault, sources);
      const built = buildAppCompose(manifest, { name, ...(trust.kms.id ? { kmsId: trust.kms.id } : {}) });
      const result = await runDeploy(
        {
          provision: built.provisionRequest,
          env,
          trust,
          healthcheck: { path: manifest.healthcheck.path, port: manifest.healthcheck.port },
        },
        deployDeps(connection.cloud, checker),
        setSteps,
      );
      setOutcome(result);
      if (!result.ok && !(result.provision && result.cvm)) return;
      const base = {
        version: 1 as const,
        name,
        apiBaseUrl: connection.baseUrl,
        apiKeyItemId: connection.apiKeyItemId,
        allowedEnvs: built.allowedEnvs,
        expectedCompose: expectedComposeOf(built.provisionRequest),
        envSources: sources,
        envSpec: manifest.env,
        createdAt: new Date().toISOString(),
      };
      if (!result.ok) {
        // The CVM exists without any secret: remember it as untrusted so it can be destroyed now or later.
        const cvm = result.cvm!;
        const record: DeploymentRecord = {
          ...base,
          cvmId: cvm.id,
          appId: result.provision!.appId,
          kmsId: result.provision!.kmsId,
          appCompose: '',
          secretsSent: false,
          lastVerifiedAt: new Date().toISOString(),
          lastVerdict: {
            trusted: false,
            ...(result.error.check ? { failedCheck: result.error.check } : {}),
            message: result.error.message,
          },
        };
        setLeftover({ itemId: await saveDeployment(vault, record), cvmId: cvm.id, destroyed: false });
        return;
      }
      const record: DeploymentRecord = {
        ...base,
        cvmId: result.cvm.id,
        appId: result.provision.appId,
        kmsId: result.provision.kmsId,
        appCompose: result.verdict.appCompose,
        lastVerifiedAt: new Date(result.verdict.verifiedAt).toISOString(),
        lastVerdict: { trusted: true },
      };
      const itemId = await saveDeployment(vault, record);
      onDeployed({ itemId, record, verdict: result.verdict });
    });
  };

  const destroyLeftover = async (): Promise<void> => {
    if (!leftover) return;
    const result = await action.run(async () => {
      await connection.cloud.deleteCvm(leftover.cvmId);
      await vault.remove(leftover.itemId);
    });
    if (result.ok) setLeftover({ ...leftover, destroyed: true });
  };

  const failed = outcome && !outcome.ok ? outcome : null;
  return (
    <section class="card stack" aria-labelledby="deploy-run-title">
      <h2 id="deploy-run-title">Deploy</h2>
      <dl class="details">
        <dt>Account</dt>
        <dd>{connection.username}</dd>
        <dt>App</dt>
        <dd>
          {manifest.name} as <code>{name}</code>
        </dd>
        <dt>Sealed env</dt>
        <dd>{sources.map((s) => s.key).join(', ') || 'none'}</dd>
      </dl>
      {steps ? <DeployProgress steps={steps} omitDetail={failed?.error.message} /> : null}
      {failed ? (
        <>
          <p class="alert alert-error" role="alert">
            {failed.error.message}
          </p>
          {leftover && !leftover.destroyed ? (
            <div class="stack deploy-leftover" role="group" aria-label="Untrusted CVM">
              <p class="small-text">
                The CVM <code>{leftover.cvmId}</code> was created without any secret and is still at the provider. It is
                saved as an untrusted deployment; destroy it now, or later from its dashboard.
              </p>
              {failed.report && isUnboundQuoteRefusal(failed.report) ? (
                <p class="small-text" data-testid="deploy-override-hint">
                  Only the quote’s freshness is unproven. If you accept that risk, open this deployment’s dashboard,
                  choose “Update secrets” and tick the override there: it is recorded with the quote’s hash.
                </p>
              ) : null}
              <div class="actions">
                <button
                  type="button"
                  class="danger-outline"
                  onClick={() => void destroyLeftover()}
                  disabled={action.busy}
                >
                  Destroy
                </button>
                {onClose ? (
                  <button type="button" onClick={onClose} disabled={action.busy}>
                    Close the wizard and open its dashboard
                  </button>
                ) : null}
              </div>
            </div>
          ) : null}
          {leftover?.destroyed ? <Notice>The untrusted CVM was destroyed.</Notice> : null}
          {/* The refusal sentence is the alert above; the report and certificate do not repeat it (issue 15). */}
          {failed.report ? <DeployTrustReport report={failed.report} omitMessage={failed.error.message} /> : null}
          {failed.report ? (
            <TeeCertificateView verification={failed.report.verification} omitMessage={failed.error.message} />
          ) : null}
        </>
      ) : null}
      <ErrorAlert message={action.error} />
      {outcome?.ok ? <Notice>Deployed.</Notice> : null}
      {/* After a refusal, provisioning another CVM is never the primary action: going back to fix the trust
          settings or the configuration is (and the untrusted CVM's Destroy sits with it above). */}
      <div class="actions">
        <button type="button" class={failed ? 'primary' : undefined} onClick={onBack} disabled={action.busy}>
          {failed ? 'Back to the trust settings' : 'Back'}
        </button>
        <button
          type="button"
          class={failed ? undefined : 'primary'}
          onClick={() => void deploy()}
          disabled={action.busy}
        >
          {action.busy ? 'Deploying…' : failed ? 'Deploy again (new CVM)' : 'Deploy'}
        </button>
      </div>
    </section>
  );
}
