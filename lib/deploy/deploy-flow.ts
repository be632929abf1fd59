import { errorMessage } from '../errors';
import type { ExpectedAppCompose } from '../providers/phala/app-compose';
import type { ProvisionCvmRequest } from '../providers/phala/client';
import type { PhalaCvm, ProvisionedCvm } from '../providers/phala/wire';
import type { TrustReport } from '../seal/trust-gate';
import { DeployError, isDeployError } from './errors';
import { StepTracker, type DeployStepId, type StepStatus } from './steps';
import type { CloudPort, EnvEntry, SealPort, TrustCheckPort, TrustPins } from './types';
import { untrustedMessage, verifyCvm, type CvmTarget, type CvmVerdict } from './verify-cvm';
import { isRunning, waitForCvm, type PollOptions } from './wait';

export interface DeployDeps {
  cloud: CloudPort;
  checkTrust: TrustCheckPort;
  seal: SealPort;
  now?: () => number;
  nonce?: () => Uint8Array;
  poll?: PollOptions;
  /** The person's override of a provider-served quote (see VerifyDeps.acceptUnboundQuote); never the default. */
  acceptUnboundQuote?: boolean;
}

export interface DeployRequest {
  /**
   * What to run (name, docker compose, allowed envs, gateway/logs switches: the provider builds app-compose.json
   * from it), e.g. buildAppCompose(manifest).provisionRequest. Its envKeys are replaced by the keys of `env`.
   */
  provision: ProvisionCvmRequest;
  env: EnvEntry[];
  trust: TrustPins;
  /** The manifest's healthcheck, reported honestly in the Health step (this page cannot call it). */
  healthcheck?: { path: string; port: number };
}

export type DeployOutcome =
  | { ok: true; provision: ProvisionedCvm; cvm: PhalaCvm; verdict: CvmVerdict }
  | {
      ok: false;
      error: DeployError;
      /** Set once provisioning succeeded. */
      provision?: ProvisionedCvm;
      /**
       * Set once the CVM was created (it runs without any secret): a failure after this leaves it at the provider,
       * to be destroyed.
       */
      cvm?: PhalaCvm;
      /** Set when the trust gate ran; its checks explain the refusal. */
      report?: TrustReport;
    };

/** What the user reads about the app's health: the provider's status, and honestly what was not checked. */
function healthDetail(cvm: PhalaCvm, healthcheck: DeployRequest['healthcheck']): string {
  const running =
    cvm.uptimeSeconds === null ? 'Provider reports running.' : `Provider reports running (up ${cvm.uptimeSeconds} s).`;
  if (!healthcheck) return running;
  return `${running} The app’s healthcheck (${healthcheck.path} on port ${healthcheck.port}) was not called: it is reachable only through the provider’s gateway, which this page does not contact.`;
}

/**
 * Verify → seal → send (PATCH envs) → healthy, on a CVM that exists and runs: shared by the first deploy and
 * "Update secrets". The gate's refusal throws before `seal` is called, so nothing leaves the browser.
 */
export async function verifySealAndSend(
  target: CvmTarget,
  env: EnvEntry[],
  trust: TrustPins,
  deps: DeployDeps,
  steps: StepTracker,
  healthcheck?: DeployRequest['healthcheck'],
): Promise<{ verdict: CvmVerdict; cvm: PhalaCvm }> {
  steps.start('verify', 'Collecting the CVM’s quote…');
  let verdict: CvmVerdict;
  try {
    verdict = await verifyCvm(target, { ...deps, trust });
  } catch (err) {
    if (isDeployError(err) && err.code === 'untrusted_cvm') {
      throw new DeployError('untrusted_cvm', `${err.message} No secret was sealed or sent.`, {
        step: 'verify',
        ...(err.check ? { check: err.check } : {}),
      });
    }
    throw err;
  }
  if (!verdict.report.trusted) {
    throw new DeployError('untrusted_cvm', `${untrustedMessage(verdict.report)} No secret was sealed or sent.`, {
      step: 'verify',
      ...(verdict.report.failed ? { check: verdict.report.failed.id } : {}),
    });
  }
  const fresh = verdict.override
    ? ' (quote served by the provider, NOT challenge-bound: sealed only because you overrode the refusal; recorded)'
    : ' (fresh quote, our challenge)';
  steps.done('verify', `All ${verdict.report.checks.length} checks passed${fresh}.`);

  steps.start('seal');
  let sealed: string;
  try {
    sealed = await deps.seal(verdict.report, verdict.envPublicKey, env);
  } catch (err) {
    const message = err instanceof Error && 'code' in err ? err.message : 'Sealing failed.';
    throw new DeployError('seal_failed', message, { step: 'seal', cause: err });
  }
  // dstack replaces the whole env set and restarts the app with it.
  await deps.cloud.updateEnv(target.cvmId, { encryptedEnv: sealed, envKeys: env.map((e) => e.key) });
  steps.done(
    'seal',
    `${env.length} env var${env.length === 1 ? '' : 's'} encrypted to the CVM’s attested key and sent.`,
  );

  steps.start('health', 'Waiting for the CVM to apply the env…');
  const cvm = await waitForCvm(deps.cloud, target.cvmId, isRunning, deps.poll);
  steps.done('health', healthDetail(cvm, healthcheck));
  return { verdict, cvm };
}

/** Rejects requests that could only fail later, before anything is created at the provider. */
export function checkDeployRequest(request: DeployRequest): void {
  const allowed = new Set(request.provision.composeFile.allowedEnvs);
  const keys = new Set<string>();
  for (const { key } of request.env) {
    if (!allowed.has(key))
      throw new DeployError('invalid_request', `${key} is not in the app’s allowed envs; the CVM would drop it.`);
    if (keys.has(key)) throw new DeployError('invalid_request', `${key} is set twice.`);
    keys.add(key);
  }
  if (!request.trust.kms.k256Pubkey || !request.trust.kms.caPubkey)
    throw new DeployError('invalid_request', 'Pin a trusted KMS first (Trust step).');
  if (request.trust.osImages.length === 0)
    throw new DeployError('invalid_request', 'Pin at least one OS image first (Trust step).');
}

/** Any failure as a DeployError that names its step; provider and seal errors keep their own messages. */
function asStepError(err: unknown, step: DeployStepId): DeployError {
  if (isDeployError(err)) {
    return err.step
      ? err
      : new DeployError(err.code, err.message, { step, ...(err.check ? { check: err.check } : {}), cause: err });
  }
  return new DeployError('provider_failed', errorMessage(err), { step, cause: err });
}

/** The compose fields we asked for, as checkAppCompose compares them. */
export function expectedComposeOf(request: ProvisionCvmRequest): ExpectedAppCompose {
  const c = request.composeFile;
  return {
    dockerComposeFile: c.dockerComposeFile,
    allowedEnvs: [...c.allowedEnvs],
    gatewayEnabled: c.gatewayEnabled,
    publicLogs: c.publicLogs,
    ...(c.preLaunchScript === undefined ? {} : { preLaunchScript: c.preLaunchScript }),
  };
}

/**
 * Provision → Start (no secrets yet) → Verify attestation → Seal secrets → Health, as real Phala Cloud allows: a
 * CVM exists (and can be attested) only once created, so it is created WITHOUT any env, attested while it runs,
 * and given its sealed env (PATCH envs) only after every trust check passed. A failed check stops the flow with
 * nothing sent and names the check; the secret-less CVM is then reported in the outcome so it can be destroyed.
 */
export async function runDeploy(
  request: DeployRequest,
  deps: DeployDeps,
  onProgress: (steps: StepStatus[]) => void = () => {},
): Promise<DeployOutcome> {
  let current: DeployStepId = 'provision';
  let provision: ProvisionedCvm | undefined;
  let created: PhalaCvm | undefined;
  let report: TrustReport | undefined;
  const steps = new StepTracker(['provision', 'start', 'verify', 'seal', 'health'], (s) => {
    // The step running when something throws is the step that failed.
    current = s.find((x) => x.state === 'running')?.id ?? current;
    onProgress(s);
  });
  // Keep the gate's report even when it refuses: the UI shows its checks and certificate.
  const trackedDeps: DeployDeps = { ...deps, checkTrust: async (req) => (report = await deps.checkTrust(req)) };
  try {
    checkDeployRequest(request);
    const envKeys = request.env.map((e) => e.key);
    steps.start('provision', 'Reserving the app and its env key…');
    provision = await deps.cloud.provisionCvm({
      ...request.provision,
      envKeys,
      ...(request.trust.kms.id ? { kmsId: request.trust.kms.id } : {}),
    });
    steps.done('provision', `App ${provision.appId}`);

    steps.start('start', 'Creating the CVM without any secret…');
    created = await deps.cloud.createCvm({ appId: provision.appId, composeHash: provision.composeHash });
    const running = await waitForCvm(deps.cloud, created.id, isRunning, deps.poll);
    created = running;
    steps.done('start', `CVM ${running.id} runs without secrets.`);

    const target: CvmTarget = {
      cvmId: running.id,
      appId: provision.appId,
      kmsId: provision.kmsId,
      allowedEnvs: request.provision.composeFile.allowedEnvs,
      envKeys,
      expectedCompose: expectedComposeOf(request.provision),
      knownAppCompose: provision.appCompose,
      provisionedEnvPublicKey: provision.appEnvEncryptPubkey,
    };
    const { verdict, cvm } = await verifySealAndSend(
      target,
      request.env,
      request.trust,
      trackedDeps,
      steps,
      request.healthcheck,
    );
    return { ok: true, provision, cvm, verdict };
  } catch (err) {
    const error = asStepError(err, current);
    steps.fail(error.step ?? current, error.message);
    return {
      ok: false,
      error,
      ...(provision ? { provision } : {}),
      ...(created ? { cvm: created } : {}),
      ...(report ? { report } : {}),
    };
  }
}
