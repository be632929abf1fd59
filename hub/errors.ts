import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ClawkeepError } from '../lib/errors';
import { API_ERRORS, isApiErrorCode, type ApiErrorCode } from '../lib/protocol/api-errors';
import { ProtocolError } from '../lib/protocol/errors';
import { StoreError } from './store/errors';

/**
 * Errors the hub answers with. Every error response is `{error: {code, message, request_id}}`. The codes and their
 * HTTP statuses are the API's (lib/protocol/api-errors.ts, docs/protocol.md §Errors): the hub never answers with a
 * code outside that list. Messages are written for a person and never carry a secret, a request body or another
 * error's message (see toHubError).
 */
export type HubErrorCode = ApiErrorCode;

/** Generic messages, used when the thrower gave none or its message is not ours to show. */
const GENERIC: Partial<Record<HubErrorCode, string>> = {
  protocol_invalid: 'The request is malformed.',
  auth_missing: 'Authentication is required.',
  forbidden: 'Not allowed.',
  not_found: 'Not found.',
  payload_too_large: 'The request body is too large.',
  rate_limited: 'Too many requests. Retry later.',
  internal: 'Internal error.',
};

export class HubError extends ClawkeepError {
  declare readonly code: HubErrorCode;
  readonly status: ContentfulStatusCode;
  /** Extra response headers, e.g. Retry-After for `rate_limited`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra fields of the error body, e.g. `hub_origin` for `wrong_hub_origin` (never request data or a secret). */
  readonly fields: Readonly<Record<string, string>>;

  constructor(
    code: HubErrorCode,
    message?: string,
    options?: { cause?: unknown; headers?: Record<string, string>; fields?: Record<string, string> },
  ) {
    super(code, message ?? GENERIC[code] ?? 'Request failed.', options);
    this.name = 'HubError';
    this.status = API_ERRORS[code].status;
    this.headers = options?.headers ?? {};
    this.fields = options?.fields ?? {};
  }
}

/** Statuses hono itself may throw (HTTPException), mapped to API codes. */
const BY_STATUS: Partial<Record<number, HubErrorCode>> = {
  400: 'protocol_invalid',
  401: 'auth_missing',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  429: 'rate_limited',
};

/**
 * Maps anything thrown while handling a request to the HubError answered. Only HubError, ProtocolError and the
 * not_found StoreError keep their messages (we write them, and they never echo input); everything else gets the
 * generic message of its code, because a foreign message may quote the request (Node's JSON.parse errors quote
 * the body). A StoreError other than not_found reaching here means a route did not translate it into its API code
 * (idempotency_conflict, intent_not_pending, ...): that is a hub bug, so it is `internal` and gets logged.
 */
export function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  // Client-side codes (hub_identity_invalid, audit_head_invalid) are never the hub's to answer with.
  if (err instanceof ProtocolError)
    return isApiErrorCode(err.code)
      ? new HubError(err.code, err.message, { cause: err })
      : new HubError('internal', undefined, { cause: err });
  if (err instanceof StoreError && err.code === 'not_found')
    return new HubError('not_found', err.message, { cause: err });
  if (err instanceof HTTPException) return new HubError(BY_STATUS[err.status] ?? 'internal', undefined, { cause: err });
  // A JSON.parse outside parseStrictJson (hub/auth.ts jsonBody is the one for request bodies).
  if (err instanceof SyntaxError)
    return new HubError('protocol_invalid', 'The request body is not valid JSON.', { cause: err });
  return new HubError('internal', undefined, { cause: err });
}
