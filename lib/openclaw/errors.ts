import { ClawkeepError, type RelayedErrorCode } from '../errors';
import type { StoredValueErrorCode } from '../storage/stored-item';

/**
 * Typed errors of the OpenClaw operator client. `code` is the gateway's own code when it sent one (the
 * `details.code` when present, e.g. `PAIRING_REQUIRED`, `MISSING_SCOPE`, `DEVICE_AUTH_SIGNATURE_INVALID`, else the
 * top-level `error.code`, e.g. `INVALID_REQUEST`, `FORBIDDEN`), or one of the client's own lowercase codes below.
 *
 * Messages never contain the gateway token, the device token, the device private key or a signature: gateway
 * messages are passed through `scrubSecrets` with every secret the client holds.
 */
export type OpenClawOwnCode =
  /** A frame that is not JSON, not an object, of an unknown type, or missing a required field. */
  | 'frame_invalid'
  /** A frame over the size limit (64 KiB before hello-ok, `policy.maxPayload` after). */
  | 'frame_too_large'
  /** No response within the request timeout. */
  | 'timeout'
  /** The socket closed, or could not be opened. */
  | 'closed'
  /** A request was made while not connected. */
  | 'not_connected'
  /** hello-ok was missing, malformed or spoke another protocol version. */
  | 'handshake_invalid'
  /** The decision is not one the request allows (`allowedDecisions`). */
  | 'decision_not_allowed'
  /** No pending approval with that id. */
  | 'approval_unknown'
  /** A stored device identity could not be loaded. */
  | 'identity_invalid'
  /** The gateway settings are not usable (address, token). */
  | 'config_invalid'
  /** A plain ws:// address to a host that is not loopback: refused, wss:// is required (gateway-url.ts). */
  | 'gateway_insecure';

/**
 * The gateway's codes this client branches on (connect.ts explains each to the person). The gateway may send
 * others: those are kept as relayed codes.
 */
export type OpenClawGatewayCode =
  | 'PAIRING_REQUIRED'
  | 'NOT_PAIRED'
  | 'APPROVAL_NOT_FOUND'
  | 'AUTH_DEVICE_TOKEN_MISMATCH'
  | 'AUTH_RATE_LIMITED'
  | 'AUTH_SCOPE_MISMATCH'
  | 'CLIENT_VERSION_MISMATCH'
  | 'PROTOCOL_MISMATCH'
  | 'CONTROL_UI_ORIGIN_NOT_ALLOWED'
  | 'CONTROL_UI_DEVICE_IDENTITY_REQUIRED'
  | 'DEVICE_IDENTITY_REQUIRED'
  | 'DEVICE_AUTH_NONCE_MISMATCH'
  | 'DEVICE_AUTH_SIGNATURE_EXPIRED'
  | 'DEVICE_AUTH_SIGNATURE_INVALID'
  | 'MISSING_SCOPE'
  | 'INVALID_REQUEST'
  | 'FORBIDDEN';

/** Gateway detail code or gateway error code (the gateway picks it), or an `OpenClawOwnCode`. */
/** Also a stored OpenClaw session value this version cannot read (lib/storage/stored-item.ts), shown as the problem. */
export type OpenClawErrorCode = OpenClawOwnCode | OpenClawGatewayCode | StoredValueErrorCode | RelayedErrorCode;

export class OpenClawError extends ClawkeepError {
  declare readonly code: OpenClawErrorCode;
  /** The gateway's top-level `error.code` when the gateway answered (e.g. `INVALID_REQUEST`); else null. */
  readonly gatewayCode: string | null;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  /** Pairing request id (PAIRING_REQUIRED), safe to show. */
  readonly requestId: string | null;
  /** Pairing reason (`not-paired`, `scope-upgrade`, …) when given. */
  readonly reason: string | null;

  constructor(
    code: OpenClawErrorCode,
    message: string,
    options: {
      gatewayCode?: string | null;
      retryable?: boolean;
      retryAfterMs?: number | null;
      requestId?: string | null;
      reason?: string | null;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OpenClawError';
    this.gatewayCode = options.gatewayCode ?? null;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.requestId = options.requestId ?? null;
    this.reason = options.reason ?? null;
  }

  override toJSON(): {
    code: OpenClawErrorCode;
    message: string;
    retryable: boolean;
    retryAfterMs: number | null;
    requestId: string | null;
  } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      requestId: this.requestId,
    };
  }
}

/** Replaces every occurrence of each secret (ignoring empty and very short strings) with `[redacted]`. */
export function scrubSecrets(text: string, secrets: readonly (string | null | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (typeof s === 'string' && s.length >= 6) out = out.split(s).join('[redacted]');
  }
  return out;
}
