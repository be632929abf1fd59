import { isOrigin } from './fields';

/**
 * Error codes the hub API returns (docs/protocol.md §Errors), with their HTTP status. Body shape:
 * `{ "error": { "code", "message", "request_id" } }`. Clients branch on `code`, never on the message. Codes are
 * never renamed or reused; a new condition gets a new code.
 */
export const API_ERRORS = {
  protocol_invalid: {
    status: 400,
    meaning: 'Body, query or path parameter does not match the schema, or is not canonical.',
  },
  approval_invalid: {
    status: 400,
    meaning: 'Signed approval malformed, bad signature, or for another hub/intent/payload/installation.',
  },
  claim_invalid: {
    status: 400,
    meaning: 'Signed claim malformed, bad signature, or does not match the agent/code/device.',
  },
  sealed_invalid: {
    status: 400,
    meaning:
      'sealed_secret is not a well-formed CKSS v1 blob, or a config delivery is not a CKSC v1 blob with a valid device signature for this hub, agent and installation.',
  },
  device_statement_invalid: {
    status: 400,
    meaning:
      'Signed device-add statement malformed, bad signature, or not for this hub, account, pairing, device keys or sealed vault key (or the sealed key is not a CKPV v1 blob).',
  },
  key_binding_invalid: {
    status: 400,
    meaning:
      'The CKKB key binding is missing, malformed, has a bad signature, or does not name this hub, role, signing key, box key and name.',
  },
  revocation_invalid: {
    status: 400,
    meaning:
      'DELETE /v1/devices/:id or /v1/installations/:id without a signed CKDR / CKIR statement by the calling device for this hub, account and device or installation (or with a malformed one, or a bad signature).',
  },
  auth_missing: { status: 401, meaning: 'A ck-* header is missing or malformed.' },
  auth_stale: { status: 401, meaning: 'ck-timestamp is more than 60 s from the hub clock.' },
  auth_replayed: { status: 401, meaning: 'ck-nonce was already used by this key.' },
  auth_bad_signature: { status: 401, meaning: 'ck-signature does not verify over the request.' },
  auth_unknown_key: { status: 401, meaning: 'No active key with this ck-key-id for this ck-role.' },
  device_revoked: { status: 403, meaning: 'The request is signed by a device that was removed from its account.' },
  intent_required: {
    status: 403,
    meaning: 'The action needs an intent the human approved; this one is pending, denied or expired.',
  },
  forbidden: { status: 403, meaning: 'This role may not call this endpoint, or the resource belongs to someone else.' },
  scope_not_granted: { status: 403, meaning: 'The installation was not granted the scope this intent needs.' },
  agent_not_claimed: { status: 403, meaning: 'The agent has no active installation yet.' },
  agent_revoked: { status: 403, meaning: 'The installation was revoked; the agent may only read GET /v1/agents/me.' },
  config_not_assigned: { status: 404, meaning: 'No agent config is assigned to this installation.' },
  not_found: { status: 404, meaning: 'No such agent, intent or installation (or not visible to the caller).' },
  claim_code_invalid: { status: 404, meaning: 'Unknown or expired claim code.' },
  pairing_code_invalid: { status: 404, meaning: 'Unknown, expired or already used pairing code.' },
  enrollment_code_invalid: { status: 404, meaning: 'Unknown or already used enrollment code.' },
  device_already_enrolled: { status: 409, meaning: 'This device key already has an account on this hub.' },
  agent_already_claimed: { status: 409, meaning: 'The agent was claimed already.' },
  config_stale: {
    status: 409,
    meaning: 'The config revision is not newer than the one the hub holds for this config.',
  },
  vault_stale: {
    status: 409,
    meaning: 'The vault changed on the hub since the base counter of this push: pull, then push again.',
  },
  vault_conflict: {
    status: 409,
    meaning: 'An item in this push was changed on the hub since the revision it is based on.',
  },
  vault_head_invalid: {
    status: 400,
    meaning:
      'The vault head is malformed, not signed by a device of this account, not the next counter, or does not match the items.',
  },
  intent_not_pending: { status: 409, meaning: 'A decision was already recorded, or the intent expired.' },
  pairing_not_pending: { status: 409, meaning: 'The pairing was already approved or denied, or it expired.' },
  intent_already_executed: { status: 409, meaning: 'Execute was already called once for this intent.' },
  idempotency_conflict: { status: 409, meaning: 'idempotency_key reused with a different kind or payload.' },
  intent_expired: { status: 410, meaning: 'The intent expired before it was decided or executed.' },
  intent_purged: {
    status: 410,
    meaning:
      "The intent was decided or expired longer ago than the hub's retention period: its payload was deleted (id, hash, status and times remain).",
  },
  payload_too_large: {
    status: 413,
    meaning: "Body over the hub's limit (POST /v1/agents must leave room for a 64 KiB manifest plus JSON escaping).",
  },
  rate_limited: { status: 429, meaning: 'Too many requests; see Retry-After.' },
  hub_busy: {
    status: 503,
    meaning:
      'The hub is serving a backlog of new intents: this one was not stored. Send it again after Retry-After (the same idempotency_key is safe).',
  },
  // Request guard (hub/request-guard.ts): a browser used against the hub by a page, and per-key stream caps.
  host_invalid: {
    status: 421,
    meaning: "The Host header is not the hub's own origin's host (DNS rebinding, or a wrong hub URL).",
  },
  wrong_hub_origin: {
    status: 421,
    meaning:
      "The request reached the hub at another origin than its public origin (the bind address, another name or scheme): signatures would not verify. The body's `hub_origin` names the hub's public origin.",
  },
  origin_forbidden: {
    status: 403,
    meaning:
      'The request carries an Origin that is not this hub, an allowed page (--allow-origin) or a browser extension.',
  },
  content_type_unsupported: { status: 415, meaning: 'The request has a body that is not application/json.' },
  internal: { status: 500, meaning: 'Unexpected hub failure; request_id identifies it in the hub log.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export const isApiErrorCode = (v: unknown): v is ApiErrorCode =>
  typeof v === 'string' && Object.prototype.hasOwnProperty.call(API_ERRORS, v);

/** HTTP status for a code. */
export const apiErrorStatus = (code: ApiErrorCode): number => API_ERRORS[code].status;

/**
 * What the person reads for a hub error code: our own words, never the hub's message (a hub could write "call
 * support at …" there: issue 13 item 16). Unknown codes show only the code.
 */
const API_ERROR_TEXT: Record<ApiErrorCode, string> = {
  protocol_invalid: 'The hub refused the request as malformed.',
  approval_invalid: 'The hub refused the signed approval.',
  claim_invalid: 'The hub refused the signed claim.',
  sealed_invalid: 'The hub refused the sealed data.',
  device_statement_invalid: 'The hub refused the signed device statement.',
  revocation_invalid: 'The hub refused the signed removal or revocation.',
  auth_missing: 'The hub says the request was not signed.',
  auth_stale: "The hub refused the request: this device's clock differs from the hub's by more than a minute.",
  auth_replayed: 'The hub refused a repeated request. Try again.',
  auth_bad_signature: "The hub could not verify this device's signature.",
  auth_unknown_key: 'The hub does not know this device. Enrol it again.',
  device_revoked: 'This device was removed from the account.',
  intent_required: 'The request has not been approved.',
  forbidden:
    'The hub refused: not allowed (for example, the installation is locked after repeated denials, or revoked).',
  scope_not_granted: 'The agent was not granted this.',
  agent_not_claimed: 'The agent has not been claimed yet.',
  agent_revoked: 'The agent was revoked.',
  config_not_assigned: 'No agent config is assigned to this agent.',
  not_found: 'The hub does not know this agent, request or installation.',
  claim_code_invalid: 'Unknown or expired claim code.',
  pairing_code_invalid: 'Unknown, expired or already used pairing code.',
  enrollment_code_invalid: 'Unknown or already used enrollment code.',
  device_already_enrolled: 'This device is already enrolled with this hub.',
  agent_already_claimed: 'The agent was claimed already.',
  config_stale: 'The hub holds a newer revision of this config.',
  vault_stale: 'The vault changed on the hub: sync again.',
  vault_conflict: 'An item was changed on the hub meanwhile: sync again.',
  vault_head_invalid: 'The hub refused the vault head.',
  intent_not_pending: 'This request is no longer pending.',
  pairing_not_pending: 'This pairing is no longer pending.',
  intent_already_executed: 'This request was carried out already.',
  idempotency_conflict: 'The hub refused a reused request key.',
  intent_expired: 'This request expired.',
  intent_purged: 'This request is older than the hub keeps requests: only its record (status and times) remains.',
  payload_too_large: 'The request is too large for the hub.',
  rate_limited: "The hub refused: too many requests (a rate limit, or the agent's daily limit). Try again later.",
  hub_busy: 'The hub is busy with other requests. Nothing was stored; try again in a moment.',
  key_binding_invalid: 'The hub sent a key that the agent or device did not sign for this hub. Do not trust it.',
  host_invalid: 'The hub refused the address it was reached at. Check the hub URL.',
  wrong_hub_origin: 'This hub has another public address than the one used. Use the hub URL its operator gave.',
  origin_forbidden: 'The hub refused a request from this page.',
  content_type_unsupported: 'The hub refused the request format.',
  internal: 'The hub failed unexpectedly.',
};

/**
 * The explanation of `wrong_hub_origin` (issue 16): "this hub is https://hub.example.com; you used
 * http://localhost:8787". The client builds it from the hub's `hub_origin` and the origin it used itself, so the
 * words are ours; null when `hub_origin` is not an origin (a hub cannot slip other text in through the field).
 */
export function wrongHubOriginText(hubOrigin: unknown, used: string): string | null {
  return isOrigin(hubOrigin) ? `this hub is ${hubOrigin}; you used ${used}` : null;
}

/** Characters a code may show as: the hub picks it, so it is shown only if it is a plain identifier. */
const SHOWABLE_CODE = /^[a-z0-9_.-]{1,64}$/;

/** Our own text for a hub error code; "The hub refused (code: xyz)." for a code we do not know. */
export function hubErrorText(code: string): string {
  if (isApiErrorCode(code)) return API_ERROR_TEXT[code];
  return SHOWABLE_CODE.test(code)
    ? `The hub refused (code: ${code}).`
    : 'The hub refused (code not shown: it is not a plain identifier).';
}
