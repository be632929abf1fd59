import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ProtocolError, type ProtocolErrorCode } from '../lib/protocol/errors';
import { StoreError } from './store/errors';

/**
 * Errors the hub answers with. Every error response is `{error: {code, message, request_id}}`; clients branch on
 * `code`, never on the message or only on the status. Messages are written for a person and never carry a secret,
 * a request body or another error's message (see toHubError).
 */
export type HubErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'internal'
  | 'unavailable'
  // The wire protocol's own codes (lib/protocol/errors.ts) pass through unchanged.
  | ProtocolErrorCode;

const STATUS: Record<HubErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  protocol_invalid: 400,
  approval_invalid: 400,
  claim_invalid: 400,
  sealed_invalid: 400,
  auth_missing: 401,
  auth_stale: 401,
  auth_replayed: 401,
  auth_bad_signature: 401,
  auth_unknown_key: 401,
};

/** Generic messages, used whenever the original message is not ours to show. */
const GENERIC: Partial<Record<HubErrorCode, string>> = {
  bad_request: 'The request is malformed.',
  unauthorized: 'Authentication is required.',
  forbidden: 'Not allowed.',
  not_found: 'Not found.',
  conflict: 'The request conflicts with the current state.',
  payload_too_large: 'The request body is larger than 64 KiB.',
  unsupported_media_type: 'Unsupported content type.',
  rate_limited: 'Too many requests. Retry later.',
  internal: 'Internal error.',
  unavailable: 'The hub is busy. Retry later.',
};

export class HubError extends Error {
  readonly code: HubErrorCode;
  readonly status: ContentfulStatusCode;
  /** Extra response headers, e.g. Retry-After for `rate_limited`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: HubErrorCode, message?: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message ?? GENERIC[code] ?? 'Request failed.', options);
    this.name = 'HubError';
    this.code = code;
    this.status = STATUS[code];
    this.headers = options?.headers ?? {};
  }
}

const BY_STATUS: Partial<Record<number, HubErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * Maps anything thrown while handling a request to the HubError answered. Only HubError, StoreError and
 * ProtocolError messages are shown (we write them, and they never echo input); everything else gets the generic
 * message of its code, because a foreign message may quote the request (Node's JSON.parse errors quote the body).
 */
export function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof ProtocolError) return new HubError(err.code, err.message, { cause: err });
  if (err instanceof StoreError) {
    if (err.code === 'not_found') return new HubError('not_found', err.message, { cause: err });
    if (err.code === 'conflict' || err.code === 'invalid_state') return new HubError('conflict', err.message, { cause: err });
    if (err.code === 'busy') return new HubError('unavailable', undefined, { cause: err });
    return new HubError('internal', undefined, { cause: err });
  }
  if (err instanceof HTTPException) return new HubError(BY_STATUS[err.status] ?? 'internal', undefined, { cause: err });
  // c.req.json() on a malformed body.
  if (err instanceof SyntaxError) return new HubError('bad_request', 'The request body is not valid JSON.', { cause: err });
  return new HubError('internal', undefined, { cause: err });
}
