import { ClawkeepError, type RelayedErrorCode } from '../errors';
import type { ApiErrorCode } from '../protocol/api-errors';

/**
 * Typed errors of the hub client. `code` is the hub's API error code (docs/protocol.md §8) when the hub answered
 * with one, else one of the client's own codes. Messages never contain a secret, a key or a request signature.
 */
export type HubClientOwnCode =
  /** The hub could not be reached (offline, refused, CORS, aborted). */
  | 'hub_unreachable'
  /** The hub answered something that is not the documented shape. */
  | 'hub_bad_response'
  /** The hub URL is not an origin we may talk to. */
  | 'hub_url_invalid'
  /** The hub at this URL does not prove it holds the identity key pinned for it (hub-identity.ts). */
  | 'hub_identity_mismatch'
  /**
   * Extension: the person refused the browser's permission to reach this hub's origin when saving it (nothing was
   * saved), or the browser refused to ask (lib/ext/hub/host-access.ts).
   */
  | 'hub_permission_refused'
  /** Extension: the saved hub's origin lost its host permission (removed in the browser's extension settings). */
  | 'hub_permission_missing'
  /** The background could not be reached from a page, or did not answer. */
  | 'rpc_failed'
  // The extension's hub service (lib/ext/hub, lib/ext/approvals): local checks before or after a hub call.
  /** This device has no account on the hub yet. */
  | 'not_enrolled'
  /** The pairing this call needs was closed or never started here. */
  | 'pairing_closed'
  /** The other device has not approved this one yet. */
  | 'pairing_pending'
  /** This device did not claim that installation: it has no key for it. */
  | 'installation_unknown'
  /** The vault item the call names does not exist. */
  | 'item_not_found'
  /** The request changed between showing it and the click, or the hub's payload hash is not the request's. */
  | 'payload_hash_mismatch'
  /** The request is malformed (cannot be hashed, no agent nonce): only Deny is possible. */
  | 'payload_invalid'
  /** Approving needs a vault secret of that name and there is none. */
  | 'secret_missing'
  /** An http.request names a host one of its secrets may not be sent to (the secret's allowed hosts). */
  | 'http_host_not_allowed'
  /** The browser has not let Clawkeep reach an http.request's host (the person did not allow the site). */
  | 'http_permission_missing'
  /** The rule chosen with "Don't ask again" does not fit the request (path prefix, daily limit): nothing was signed. */
  | 'standing_rule_invalid';

/**
 * A HubClientError's code: the hub's documented codes, the client's own, or a code the hub sent that this build
 * does not know (kept so the person sees it: `hubErrorText`).
 */
export type HubClientErrorCode = ApiErrorCode | HubClientOwnCode | RelayedErrorCode;

export class HubClientError extends ClawkeepError {
  declare readonly code: HubClientErrorCode;
  /** HTTP status, 0 when there was no response. */
  readonly status: number;
  readonly requestId: string | null;

  constructor(
    code: HubClientErrorCode,
    message: string,
    options: { status?: number; requestId?: string | null; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.name = 'HubClientError';
    this.status = options.status ?? 0;
    this.requestId = options.requestId ?? null;
  }

  override toJSON(): { code: HubClientErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/**
 * The extension may not reach the hub at `origin` (issue 16, "Reachable"): the person refused the browser's
 * permission prompt when saving it, or the browser would not ask. Said in words, and said before anything is saved.
 */
export function hubPermissionRefused(origin: string, cause?: unknown): HubClientError {
  return new HubClientError(
    'hub_permission_refused',
    `Clawkeep needs permission to reach ${origin}. Nothing was saved.`,
    cause === undefined ? {} : { cause },
  );
}
