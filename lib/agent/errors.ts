import { ClawkeepError } from '../errors';
import type { ApiErrorCode } from '../protocol/api-errors';

/**
 * Codes the agent SDK raises itself (the hub's own codes are passed through unchanged):
 *
 * - `state_invalid`: the agent state is missing, malformed, or lacks what the call needs (not registered, no
 *   pinned device yet, an intent this client did not create).
 * - `claim_untrusted`: the claim the hub relays does not verify for our keys, code and hub, or it names a device
 *   other than the one pinned at the first claim.
 * - `approval_untrusted`: the approval does not verify under the pinned device key for our hub, intent,
 *   installation and the payload hash we computed, says `deny`, or is missing where the signed policy needs one.
 * - `sealed_untrusted`: the sealed secret or an http.request's response delivery (CKRS + CKHR) does not open for
 *   our box key and this intent (tampered, or sealed for another intent, payload or agent), is not signed by the
 *   pinned device or one it added, or is missing.
 * - `config_untrusted`: the agent config the hub relays is not signed by the pinned device for our hub, agent and
 *   installation, does not open for our box key and its signed context, or is not a well-formed config.
 * - `config_rollback`: the config is older than one this agent accepted before (a lower revision of the same
 *   config, or an earlier signed time): the hub may be replaying it.
 * - `approval_replayed`: the hub answered with an intent or approval of another request (not the nonce this agent
 *   generated for it), one this agent executed already, or one signed before the request or after its expiry.
 * - `intent_mismatch`: the hub's intent is not the one we asked for (other agent, kind, payload or hash).
 * - `response_invalid`: a hub response does not match the v1 schema.
 * - `hub_unreachable`: the network request failed.
 * - `wait_timeout`: no decision within the time we were willing to wait.
 * - `hub_identity_invalid`: the hub at our URL does not prove it holds the identity key pinned at registration (a
 *   different hub, or a squatter on the port): nothing is sent to it.
 * - `audit_head_invalid`: a signed audit head (CKAH) is malformed or does not verify.
 * - `intent_denied`: the human denied the request (the hub says so; nothing was carried out for the agent).
 * - `http_refused`: the human's device refused an http.request without asking (e.g. a secret may not be sent to
 *   that host), in words it signed and sealed to this agent; the message is the device's.
 * - `http_failed`: the device made an http.request and no answer came (timeout, too large, network); the SDK returns
 *   this as an outcome, the CLI reports it as this error with the device's words and code.
 * - `installation_revoked`: a device of the human signed a revocation (CKIR) of this agent's installation; the
 *   agent saw it once and stops for good (whatever the hub says later). Claim it again to use it.
 */
export type AgentLocalErrorCode =
  | 'state_invalid'
  | 'claim_untrusted'
  | 'approval_untrusted'
  | 'approval_replayed'
  | 'sealed_untrusted'
  | 'config_untrusted'
  | 'config_rollback'
  | 'intent_mismatch'
  | 'response_invalid'
  | 'hub_unreachable'
  | 'wait_timeout'
  | 'hub_identity_invalid'
  | 'audit_head_invalid'
  | 'intent_denied'
  | 'http_refused'
  | 'http_failed'
  | 'installation_revoked';

export type AgentErrorCode = ApiErrorCode | AgentLocalErrorCode;

/** Every error the agent SDK throws on purpose. Branch on `code`; messages never contain secrets or keys. */
export class AgentError extends ClawkeepError {
  declare readonly code: AgentErrorCode;
  /** HTTP status for errors the hub returned. */
  readonly status?: number;
  /** The hub's request id, to find the failure in the hub log. */
  readonly requestId?: string;
  /** `rate_limited`: the hub's Retry-After, in seconds, when it sent one. */
  readonly retryAfterSeconds?: number;
  /**
   * `http_refused`, `http_failed`: the device's own code for why (e.g. `http_host_not_allowed`), as it signed it. A code the
   * device chose, shown and branched on by scripts, never one of ours.
   */
  readonly deviceCode?: string;

  constructor(
    code: AgentErrorCode,
    message: string,
    options: {
      cause?: unknown;
      status?: number;
      requestId?: string;
      retryAfterSeconds?: number;
      deviceCode?: string;
    } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    if (options.status !== undefined) this.status = options.status;
    if (options.requestId !== undefined) this.requestId = options.requestId;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.deviceCode !== undefined) this.deviceCode = options.deviceCode;
  }

  override toJSON(): { code: AgentErrorCode; message: string; request_id?: string; device_code?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.requestId ? { request_id: this.requestId } : {}),
      ...(this.deviceCode ? { device_code: this.deviceCode } : {}),
    };
  }
}

export const isAgentError = (err: unknown, code?: AgentErrorCode): err is AgentError =>
  err instanceof AgentError && (code === undefined || err.code === code);
