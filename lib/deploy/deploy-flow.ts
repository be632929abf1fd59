import { AppComposeError, checkAppCompose } from '../providers/phala/app-compose';
import type { ProvisionCvmRequest } from '../providers/phala/client';
import type { PhalaCvm, ProvisionedCvm } from '../providers/phala/wire';
import type { TrustReport } from '../seal/trust-gate';
import { DeployError, isDeployError } from './errors';
import { StepTracker, type DeployStepId, type StepStatus } from './steps';
import type { CloudPort, EnvEntry, SealPort, TrustCheckPort, TrustPins } from './types';
import { untrustedMessage, verifyCvm, type CvmTarget, type CvmVerdict } from './verify-cvm';
import { isAttestable, waitForCvm, type PollOptions } from './wait';

export interface DeployDeps {
  cloud: CloudPort;
  checkTrust: TrustCheckPort;
  seal: SealPort;
  now?: () => number;
  nonce?: () => Uint8Array;
  poll?: PollOptions;
}

export interface DeployRequest {
  /**
   * What to run (name, docker compose, allowed envs, gateway/logs switches: the provider builds app-compose.json
   * from it), e.g. buildAppCompose(manifest).provisionRequest. Its envKeys are replaced by the keys of `env`.
   */
  provision: ProvisionCvmRequest;
  env: EnvEntry[];
  trust: TrustPins;
}

export type DeployOutcome =
  | { ok: true; provision: ProvisionedCvm; cvm: PhalaCvm; verdict: CvmVerdict }
  | {
      ok: false;
      error: DeployError;
      /** Set once provisioning succeeded. */
      provision?: ProvisionedCvm;
      /** Set when the trust gate ran; its checks explain the refusal. */
      report?: TrustReport;
    };

/**
 * Verify → seal → hand the sealed env to the CVM (`send`) → healthy: shared by the first deploy and "Update
 * secrets". The gate's refusal throws before `seal` is called, so nothing leaves the browser.
 */
export async function verifySealAndSend(
  target: CvmTarget,
  env: EnvEntry[],
  trust: TrustPins,
  deps: DeployDeps,
  steps: StepTracker,
  send: (sealedEnv: string, envKeys: string[]) => Promise<string>,
): Promise<{ verdict: CvmVerdict; cvm: PhalaCvm }> {
  steps.start('verify', 'Asking the CVM for a fresh quote…');
  const verdict = await verifyCvm(target, { ...deps, trust });
  if (!verdict.report.trusted) {
    throw new DeployError('untrusted_cvm', `${untrustedMessage(verdict.report)} No secret was sealed or sent.`, {
      step: 'verify',
      ...(verdict.report.failed ? { check: verdict.report.failed.id } : {}),
    });
  }
  steps.done('verify', `All ${verdict.report.checks.length} checks passed.`);

  steps.start('seal');
  let sealed: string;
  try {
    sealed = await deps.seal(verdict.report, verdict.envPublicKey, env);
  } catch (err) {
    const message = err instanceof Error && 'code' in err ? err.message : 'Sealing failed.';
    throw new DeployError('seal_failed', message, { step: 'seal', cause: err });
  }
  steps.done('seal', `${env.length} env var${env.length === 1 ? '' : 's'} encrypted to the CVM’s attested key.`);

  steps.start('start');
  const cvmId = await send(sealed, env.map((e) => e.key));
  steps.done('start');

  steps.start('health');
  const cvm = await waitForCvm(deps.cloud, cvmId, isAttestable, deps.poll);
  steps.done('health', cvm.uptimeSeconds === null ? 'Running.' : `Running (up ${cvm.uptimeSeconds} s).`);
  return { verdict, cvm };
}

/** Rejects requests that could only fail later, before anything is created at the provider. */
export function checkDeployRequest(request: DeployRequest): void {
  const allowed = new Set(request.provision.composeFile.allowedEnvs);
  const keys = new Set<string>();
  for (const { key } of request.env) {
    if (!allowed.has(key)) throw new DeployError('invalid_request', `${key} is not in the app’s allowed envs; the CVM would drop it.`);
    if (keys.has(key)) throw new DeployError('invalid_request', `${key} is set twice.`);
    keys.add(key);
  }
  if (!request.trust.kms.k256Pubkey || !request.trust.kms.caPubkey) throw new DeployError('invalid_request', 'Pin a trusted KMS first (Trust step).');
  if (request.trust.osImages.length === 0) throw new DeployError('invalid_request', 'Pin at least one OS image first (Trust step).');
}

/** Any failure as a DeployError that names its step; provider and seal errors keep their own messages. */
function asStepError(err: unknown, step: DeployStepId): DeployError {
  if (isDeployError(err)) {
    return err.step ? err : new DeployError(err.code, err.message, { step, ...(err.check ? { check: err.check } : {}), cause: err });
  }
  const coded = err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
  return new DeployError('provider_failed', coded ? (err as Error).message : 'Unexpected failure.', { step, cause: err });
}

/**
 * Provision → Verify attestation → Seal secrets → Start → Health. The provisioned app must attest through its
 * guest agent with a fresh quote and pass every trust check before its env is sealed; only then is the CVM
 * created with the sealed env. A failed check stops the flow with nothing sent and names the check.
 */
export async function runDeploy(request: DeployRequest, deps: DeployDeps, onProgress: (steps: StepStatus[]) => void = () => {}): Promise<DeployOutcome> {
  let current: DeployStepId = 'provision';
  let provision: ProvisionedCvm | undefined;
  let report: TrustReport | undefined;
  const steps = new StepTracker(['provision', 'verify', 'seal', 'start', 'health'], (s) => {
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
    const compose = request.provision.composeFile;
    provision = await deps.cloud.provisionCvm({
      ...request.provision,
      envKeys,
      ...(request.trust.kms.id ? { kmsId: request.trust.kms.id } : {}),
    });
    try {
      checkAppCompose(provision.appCompose, {
        dockerComposeFile: compose.dockerComposeFile,
        allowedEnvs: compose.allowedEnvs,
        gatewayEnabled: compose.gatewayEnabled,
        publicLogs: compose.publicLogs,
        ...(compose.preLaunchScript === undefined ? {} : { preLaunchScript: compose.preLaunchScript }),
      });
    } catch (err) {
      if (!(err instanceof AppComposeError)) throw err;
      throw new DeployError('untrusted_cvm', `${err.message} Nothing was sealed or sent.`, { step: 'provision', check: 'compose-hash' });
    }
    if (!provision.guestAgentUrl) {
      // Real Phala Cloud boots a CVM only with its env: there is nothing to attest before secrets would leave.
      throw new DeployError(
        'provider_failed',
        'The provider offers no way to attest this app before its secrets are sent (no guest agent at provisioning). Clawkeep seals secrets only to a CVM it has verified.',
        { step: 'provision' },
      );
    }
    steps.done('provision', `App ${provision.appId}`);

    const target: CvmTarget = {
      cvmId: null,
      guestAgentUrl: provision.guestAgentUrl,
      appId: provision.appId,
      kmsId: provision.kmsId,
      appCompose: provision.appCompose,
      allowedEnvs: compose.allowedEnvs,
      envKeys,
      provisionedEnvPublicKey: provision.appEnvEncryptPubkey,
    };
    const p = provision;
    const { verdict, cvm } = await verifySealAndSend(target, request.env, request.trust, trackedDeps, steps, async (encryptedEnv, keys) => {
      const created = await deps.cloud.createCvm({ appId: p.appId, composeHash: p.composeHash, encryptedEnv, envKeys: keys });
      return created.id;
    });
    return { ok: true, provision, cvm, verdict };
  } catch (err) {
    const error = asStepError(err, current);
    steps.fail(error.step ?? current, error.message);
    return { ok: false, error, ...(provision ? { provision } : {}), ...(report ? { report } : {}) };
  }
}
