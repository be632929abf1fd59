import { ClawkeepError } from '../errors';
import type { TrustCheckId } from '../seal/trust-gate';
import type { DeployStepId } from './steps';

/**
 * Typed errors of the deploy flow and the dashboard operations. Callers branch on `code`; messages are written
 * for a person and never contain a secret value, an API key or a sealed blob.
 */
export type DeployErrorCode =
  /** The trust gate refused the CVM: `check` names the first failed check. Nothing was sealed or sent. */
  | 'untrusted_cvm'
  /** The provider's API failed or answered something we cannot use. */
  | 'provider_failed'
  /** The CVM's guest agent (GetQuote) failed or answered something we cannot use. */
  | 'guest_agent_failed'
  /** The CVM did not reach "running" in time after start. */
  | 'unhealthy'
  /** The request itself is incomplete or inconsistent (missing env, bad pins). */
  | 'invalid_request'
  /** Sealing failed (bad env, bad key) after the CVM was trusted. */
  | 'seal_failed';

export class DeployError extends ClawkeepError {
  declare readonly code: DeployErrorCode;
  /** The step that failed, when the error comes from a flow. */
  readonly step?: DeployStepId;
  /** For `untrusted_cvm`: the trust check that failed first. */
  readonly check?: TrustCheckId;

  constructor(
    code: DeployErrorCode,
    message: string,
    options?: { step?: DeployStepId; check?: TrustCheckId; cause?: unknown },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeployError';
    if (options?.step) this.step = options.step;
    if (options?.check) this.check = options.check;
  }

  override toJSON(): { code: DeployErrorCode; message: string; step?: DeployStepId; check?: TrustCheckId } {
    return {
      code: this.code,
      message: this.message,
      ...(this.step ? { step: this.step } : {}),
      ...(this.check ? { check: this.check } : {}),
    };
  }
}

export const isDeployError = (err: unknown): err is DeployError => err instanceof DeployError;
