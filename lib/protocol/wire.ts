import * as v from 'valibot';
import { APPROVAL_FORMAT, CLAIM_FORMAT, isAgentNonce, type ApprovalStatement, type ClaimStatement } from './approval';
import { fromBase64Url } from './base64url';
import { HIDDEN_TEXT_MESSAGE, isDisplaySafe } from './display-text';
import { invalid } from './errors';
import { isEpoch, isId, isOrigin, isSha256Hex } from './fields';
import { RISKS } from './intent-kinds';
import { decodePublicKey } from './keys';
import { parseHttpRequest } from './http-request';
import { isItemName, isScope, type Scope } from './scopes';
import { CONFIG_STATEMENT_FORMAT, SEALED_CONFIG_MAX_LENGTH, type ConfigStatement } from './sealed-config';
import { SEALED_SECRET_MAX_PLAINTEXT } from './sealed-secret';

/**
 * valibot schemas and inferred types for the v1 hub HTTP API (docs/protocol.md §7). Request bodies use strict
 * objects (an unknown field is an error, so a typo never goes unnoticed); response bodies use plain objects
 * (unknown fields are dropped), so a newer hub can add fields without breaking older clients.
 * Times are epoch milliseconds; keys are unpadded base64url; hashes are lowercase hex.
 */

const safe =
  <T>(fn: (x: T) => unknown) =>
  (x: T): boolean => {
    try {
      fn(x);
      return true;
    } catch {
      return false;
    }
  };
// Text a person reads before deciding must show what it is: no controls, bidi, zero-width or other invisible
// characters (display-text.ts; issue 13 item 7). The hub refuses them at the door and the device again on display.
const text = (max: number, min = 0) =>
  v.pipe(
    v.string(),
    v.minLength(min),
    v.maxLength(max),
    v.check((s) => isDisplaySafe(s), HIDDEN_TEXT_MESSAGE),
  );
// Free text a person reads (reasons, commands, message bodies): newlines and tabs allowed, nothing invisible.
const prose = (max: number) =>
  v.pipe(
    v.string(),
    v.maxLength(max),
    v.check((s) => isDisplaySafe(s, true), HIDDEN_TEXT_MESSAGE),
  );

/**
 * Every key and string value of a JSON value is display-safe (keys single-line, string values may span lines), and
 * it nests at most `depth` levels: action details are shown row by row and signed as they are.
 */
export function isDisplaySafeJson(value: unknown, depth = 16): boolean {
  if (typeof value === 'string') return isDisplaySafe(value, true);
  if (value === null || typeof value !== 'object') return true;
  if (depth <= 0) return false;
  if (Array.isArray(value)) return value.every((x) => isDisplaySafeJson(x, depth - 1));
  return Object.entries(value).every(([k, x]) => isDisplaySafe(k) && isDisplaySafeJson(x, depth - 1));
}

export const IdSchema = v.pipe(
  v.string(),
  v.check((x) => isId(x), 'invalid id'),
);
export const Sha256HexSchema = v.pipe(
  v.string(),
  v.check((x) => isSha256Hex(x), 'invalid sha256 hex'),
);
export const EpochMsSchema = v.pipe(
  v.number(),
  v.check((x) => isEpoch(x), 'invalid epoch milliseconds'),
);
export const OriginSchema = v.pipe(
  v.string(),
  v.check((x) => isOrigin(x), 'invalid origin'),
);
export const SigningKeySchema = v.pipe(
  v.string(),
  v.check(
    safe((s: string) => decodePublicKey(s, 'ed25519')),
    'invalid Ed25519 public key',
  ),
);
export const BoxKeySchema = v.pipe(
  v.string(),
  v.check(
    safe((s: string) => decodePublicKey(s, 'x25519')),
    'invalid X25519 public key',
  ),
);
export const ScopeSchema = v.pipe(
  v.string(),
  v.check((x) => isScope(x), 'invalid scope'),
) as v.GenericSchema<string, Scope>;
export const ScopeListSchema = v.pipe(
  v.array(ScopeSchema),
  v.maxLength(64),
  v.check((a) => new Set(a).size === a.length, 'duplicate scope'),
);
export const RiskSchema = v.picklist(RISKS);
export const IntentStatusSchema = v.picklist(['pending', 'approved', 'denied', 'expired', 'executed']);
export const AgentStatusSchema = v.picklist(['unclaimed', 'claimed', 'revoked']);
// Sealed secret blob: CKSS header (61) + tag (16) + at most 64 KiB; shape only, the agent authenticates it.
export const SealedSecretSchema = v.pipe(
  v.string(),
  v.maxLength(Math.ceil(((61 + 16 + SEALED_SECRET_MAX_PLAINTEXT) * 4) / 3)),
  v.check(
    safe((s: string) => {
      if (fromBase64Url(s).length < 77) throw invalid('short');
    }),
    'invalid sealed secret',
  ),
);

const statementSchema = <T>(validate: (x: unknown) => T) =>
  v.pipe(
    v.unknown(),
    v.check(safe(validate), 'invalid statement'),
    v.transform((x) => validate(x)),
  );
export const SignedApprovalSchema = v.strictObject({
  statement: statementSchema<ApprovalStatement>(APPROVAL_FORMAT.validate),
  signature: v.pipe(v.string(), v.length(86)),
});
export const SignedClaimSchema = v.strictObject({
  statement: statementSchema<ClaimStatement>(CLAIM_FORMAT.validate),
  signature: v.pipe(v.string(), v.length(86)),
});

// ---- Agent configs (docs: README "Agent config delivery") ----------------------------------------------------------

export const SignedConfigSchema = v.strictObject({
  statement: statementSchema<ConfigStatement>(CONFIG_STATEMENT_FORMAT.validate),
  signature: v.pipe(v.string(), v.length(86)),
});
/** PUT /v1/installations/:id/config (human): one sealed revision and the device's signature over it. */
export const ConfigDeliverySchema = v.strictObject({
  config: SignedConfigSchema,
  sealed_config: v.pipe(v.string(), v.maxLength(Math.ceil((SEALED_CONFIG_MAX_LENGTH * 4) / 3))),
});
export const ConfigPutResponseSchema = v.object({
  installation_id: IdSchema,
  config_id: IdSchema,
  revision: v.number(),
  updated_at: EpochMsSchema,
});
export const ConfigDeleteResponseSchema = v.object({ installation_id: IdSchema, deleted: v.boolean() });
/** GET /v1/agent/config (agent): the newest delivery for its installation, exactly as the device sent it. */
export const AgentConfigResponseSchema = v.object({
  ...ConfigDeliverySchema.entries,
  updated_at: EpochMsSchema,
  /** As in ExecuteResponseSchema: lets the agent accept a delivery signed by a device its pinned device added. */
  devices: v.optional(v.array(v.unknown())),
});

// ---- Accounts -----------------------------------------------------------------------------------------------

/**
 * POST /v1/accounts (human, signed by the device key being enrolled; `ck-key-id` = deviceKeyId(device_key)).
 * The one-time enrollment code the hub printed at first start proves the caller may create an account.
 */
export const EnrollRequestSchema = v.strictObject({
  enrollment_code: v.pipe(v.string(), v.maxLength(32)),
  device_key: SigningKeySchema,
});
/** `hub_key`: the hub's identity key (docs/protocol.md §11), which the device pins with the hub URL. */
export const EnrollResponseSchema = v.object({
  account_id: IdSchema,
  fingerprint: v.string(),
  hub_key: SigningKeySchema,
});
export type EnrollRequest = v.InferOutput<typeof EnrollRequestSchema>;
export type EnrollResponse = v.InferOutput<typeof EnrollResponseSchema>;

// ---- Agents -------------------------------------------------------------------------------------------------

export const MANIFEST_MAX_BYTES = 64 * 1024;
export const ManifestSchema = v.union([
  v.strictObject({ markdown: v.pipe(v.string(), v.minLength(1), v.maxBytes(MANIFEST_MAX_BYTES)) }),
  // The hub fetches it once at registration (SSRF-filtered) and stores a snapshot; https only, no credentials.
  v.strictObject({
    url: v.pipe(
      v.string(),
      v.maxLength(2048),
      v.url(),
      v.check((u) => /^https:\/\/[^@/?#]+(\/|$)/.test(u), 'https URL without userinfo'),
    ),
  }),
]);

/** POST /v1/agents (no auth; rate-limited per IP). */
export const RegisterAgentRequestSchema = v.strictObject({
  name: text(80, 1),
  signing_key: SigningKeySchema,
  box_key: BoxKeySchema,
  manifest: ManifestSchema,
  requested_scopes: ScopeListSchema,
  /**
   * The CKKB key binding signed by signing_key over `{hub, role: agent, signing_key, box_key, name, time}`. Checked by
   * verifyKeyBinding (not the schema), so a bad or missing one answers `key_binding_invalid`.
   */
  key_binding: v.optional(v.unknown()),
});
export const RegisterAgentResponseSchema = v.object({
  agent_id: IdSchema,
  /** Display form `XXXX-XXXX`; the agent shows it to its human. */
  claim_code: v.string(),
  expires_at: EpochMsSchema,
});

/** GET /v1/agents/me (agent). */
export const AgentMeResponseSchema = v.object({
  agent_id: IdSchema,
  status: AgentStatusSchema,
  installation: v.optional(
    v.object({
      installation_id: IdSchema,
      granted_scopes: ScopeListSchema,
      claim: SignedClaimSchema,
      /** The CKIR a device signed when it revoked this installation (lib/protocol/revocation.ts); the agent verifies it. */
      revocation: v.optional(v.nullable(v.unknown())),
    }),
  ),
  /** With a revocation: the account's devices (as GET /v1/devices), so the agent can check who signed it. */
  devices: v.optional(v.array(v.unknown())),
});

// ---- Claims -------------------------------------------------------------------------------------------------

/** POST /v1/claims/lookup (human). */
export const ClaimLookupRequestSchema = v.strictObject({ claim_code: v.pipe(v.string(), v.maxLength(32)) });
export const ClaimLookupResponseSchema = v.object({
  agent_id: IdSchema,
  name: v.string(),
  /** fingerprint(signing_key): the human compares it with what the agent shows. */
  fingerprint: v.pipe(v.string(), v.regex(/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/)),
  signing_key: SigningKeySchema,
  box_key: BoxKeySchema,
  /** The agent's CKKB key binding as it registered it; null for an agent registered before bindings existed. */
  key_binding: v.optional(v.nullable(v.unknown()), null),
  manifest: v.object({
    markdown: v.pipe(v.string(), v.maxBytes(MANIFEST_MAX_BYTES)),
    /** hex SHA-256 of the UTF-8 markdown, so the human can pin what they read. */
    sha256: Sha256HexSchema,
    url: v.optional(v.string()),
  }),
  requested_scopes: ScopeListSchema,
  expires_at: EpochMsSchema,
});

/** POST /v1/claims (human). The device picks installation_id (fresh random id) because the claim signs it. */
export const ClaimRequestSchema = v.strictObject({ claim: SignedClaimSchema });
export const ClaimResponseSchema = v.object({ installation_id: IdSchema });

/** DELETE /v1/installations/:id (human). */
export const RevokeResponseSchema = v.object({ installation_id: IdSchema, revoked_at: EpochMsSchema });
/** DELETE /v1/installations/:id body: the CKIR the revoking device signed (lib/protocol/revocation.ts). */
export const RevokeRequestSchema = v.strictObject({ revocation: v.unknown() });

export const InstallationStatusSchema = v.picklist(['active', 'locked', 'revoked']);
/**
 * An installation as its human sees it (GET /v1/installations, POST /v1/installations/:id/enable). `locked` means
 * the hub stopped taking intents after too many denials in a row until the human re-enables it.
 */
export const InstallationSchema = v.object({
  installation_id: IdSchema,
  agent_id: IdSchema,
  agent_name: v.string(),
  /** fingerprint(agent signing key), as the claim screen showed it. */
  fingerprint: v.string(),
  /** The agent's keys and its CKKB key binding (null for an agent registered before bindings): clients verify it. */
  agent_signing_key: v.optional(v.string()),
  agent_box_key: v.optional(v.string()),
  key_binding: v.optional(v.nullable(v.unknown()), null),
  granted_scopes: ScopeListSchema,
  /** The signed claim's policy; daily_limit is absent only from an older hub. */
  policy: v.object({
    approval_required: v.array(v.string()),
    daily_limit: v.optional(v.nullable(v.pipe(v.number(), v.safeInteger(), v.minValue(1)))),
  }),
  status: InstallationStatusSchema,
  consecutive_denials: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  created_at: EpochMsSchema,
  last_activity: v.nullable(EpochMsSchema),
  /** The signed claim statement the owner's device sent (CKCL), verbatim; the device verifies it itself. */
  claim: v.optional(v.unknown()),
  /** The CKIR a device signed when it revoked this installation (lib/protocol/revocation.ts); null otherwise. */
  revocation: v.optional(v.nullable(v.unknown())),
});
/** GET /v1/installations (human): the caller's installations, oldest first. */
export const InstallationListResponseSchema = v.object({ installations: v.array(InstallationSchema) });

// ---- Intents ------------------------------------------------------------------------------------------------

const plainObject = v.pipe(
  v.record(v.string(), v.unknown()),
  v.check((o) => Object.getPrototypeOf(o) === Object.prototype, 'plain object'),
);

export const SecretRequestPayloadSchema = v.strictObject({
  /** Vault item name, matched exactly against `secret:read:<item>` grants. */
  item: v.pipe(
    v.string(),
    v.check((x) => isItemName(x), 'invalid item name'),
  ),
  reason: prose(1000),
});
export const ActionApprovePayloadSchema = v.strictObject({
  summary: text(500, 1),
  /** The agent's own risk claim: it can raise the risk shown, never lower it below the kind's floor (intent-kinds.ts). */
  risk: RiskSchema,
  /** Free-form canonical JSON the human sees field by field on the card; nothing in it may be invisible. */
  details: v.optional(
    v.pipe(
      plainObject,
      v.check((o) => isDisplaySafeJson(o), `details: ${HIDDEN_TEXT_MESSAGE}, nested at most 16 levels`),
    ),
  ),
});
export const PaymentSendPayloadSchema = v.strictObject({
  summary: text(500, 1),
  /** Integer minor units (cents): canonical JSON has no floats. */
  amount_minor: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  currency: v.pipe(v.string(), v.regex(/^[A-Z]{3}$/)),
  payee: text(200, 1),
  memo: v.optional(prose(1000)),
});
export const ShellExecPayloadSchema = v.strictObject({
  summary: text(500, 1),
  command: prose(8192),
  cwd: v.optional(text(1024)),
});
export const MessageSendPayloadSchema = v.strictObject({
  summary: text(500, 1),
  channel: text(64, 1),
  to: text(320, 1),
  body: prose(16384),
});

/** An `http.request` payload: checked field by field by parseHttpRequest (http-request.ts), which also says where each secret goes. */
export const HttpRequestPayloadSchema = v.pipe(
  plainObject,
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      parseHttpRequest(dataset.value);
    } catch (err) {
      addIssue({ message: err instanceof Error ? err.message : 'invalid http.request payload' });
    }
  }),
);

/** 16 random bytes of the agent, base64url: the device signs it into the approval (CKAP v2). */
export const AgentNonceSchema = v.pipe(
  v.string(),
  v.check((x) => isAgentNonce(x), 'invalid agent_nonce'),
);

const intentVariant = <K extends string, P extends v.GenericSchema>(kind: K, payload: P) =>
  v.strictObject({ kind: v.literal(kind), payload, idempotency_key: IdSchema, agent_nonce: AgentNonceSchema });

/**
 * POST /v1/intents (agent). Same idempotency_key + same kind and payload returns the same intent (with the nonce
 * of its first creation). `agent_nonce` is fresh per request: the device's approval signs it, so the agent can
 * refuse an approval made for another of its requests.
 */
export const CreateIntentRequestSchema = v.variant('kind', [
  intentVariant('secret.request', SecretRequestPayloadSchema),
  intentVariant('http.request', HttpRequestPayloadSchema),
  intentVariant('action.approve', ActionApprovePayloadSchema),
  intentVariant('payment.send', PaymentSendPayloadSchema),
  intentVariant('shell.exec', ShellExecPayloadSchema),
  intentVariant('message.send', MessageSendPayloadSchema),
]);

/** An intent as the hub returns it (POST /v1/intents, GET /v1/intents[/:id], decision, execute). */
export const IntentSchema = v.object({
  intent_id: IdSchema,
  agent_id: IdSchema,
  installation_id: IdSchema,
  kind: v.string(),
  payload: plainObject,
  payload_hash: Sha256HexSchema,
  status: IntentStatusSchema,
  risk: RiskSchema,
  created_at: EpochMsSchema,
  expires_at: EpochMsSchema,
  /** The agent's nonce for this request (absent only on intents created before CKAP v2: they cannot be approved). */
  agent_nonce: v.optional(AgentNonceSchema),
  decided_at: v.optional(EpochMsSchema),
  executed_at: v.optional(EpochMsSchema),
  /** Present once decided: the device's signed statement, so the agent can verify it without trusting the hub. */
  approval: v.optional(SignedApprovalSchema),
  /**
   * To the agent only, on an http.request the device denied unasked (a secret may not go to that host): the
   * device's sealed, signed reason (sealed-response.ts, outcome `refused`).
   */
  http_response: v.optional(v.unknown()),
  /** With `http_response` only: the account's devices (as execute sends them), to verify a refusal by any of them. */
  devices: v.optional(v.array(v.unknown())),
});
/** GET /v1/intents?status=pending (human): the caller's installations only, oldest first. */
/** GET /v1/intents?status=pending: one page; `next_cursor` when more follow (lib/protocol/intent-events-wire.ts). */
export const IntentListResponseSchema = v.object({
  intents: v.array(IntentSchema),
  next_cursor: v.optional(v.string()),
});

/** POST /v1/intents/:id/decision (human). sealed_secret only with decision 'approve' on a secret.request. */
export const DecisionRequestSchema = v.strictObject({
  approval: SignedApprovalSchema,
  sealed_secret: v.optional(SealedSecretSchema),
  /**
   * An http.request's outcome (sealed-response.ts: CKRS statement + CKHR box): required to approve one (the device
   * made the call), optional with a denial (the device refused it unasked, and says why to the agent).
   */
  http_response: v.optional(v.strictObject({ response: v.unknown(), sealed_response: v.string() })),
});

/**
 * POST /v1/intents/:id/execute (agent, empty body): succeeds once per approved intent. `approval` is absent only
 * for a kind the installation's signed policy does not list in approval_required (the agent can check that).
 */
export const ExecuteResponseSchema = v.object({
  intent: IntentSchema,
  approval: v.optional(SignedApprovalSchema),
  sealed_secret: v.optional(v.string()),
  /** http.request only: the device's sealed, signed outcome of the call (sealed-response.ts). */
  http_response: v.optional(v.unknown()),
  /**
   * The account's devices with their CKDA statements (as GET /v1/devices), when it has more than one: lets the
   * agent accept an approval from a device its pinned device added (lib/protocol/device-pairing.ts devicesVouchedBy).
   */
  devices: v.optional(v.array(v.unknown())),
});

/** A statement as it travels: `{statement, signature}`; the statement's own format checks the rest. */
const SignedAnySchema = v.object({ statement: v.unknown(), signature: v.string() });

// ---- Audit --------------------------------------------------------------------------------------------------

/** Page size of GET /v1/audit: `limit` defaults to 50 and is at most 200. */
export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;
const SeqSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

/**
 * One entry of the hub's hash-chained audit log as GET /v1/audit returns it. `actor` is `hub`, `account:<id>` or
 * `agent:<id>`; `resource` is e.g. `intent:<id>`, `installation:<id>`, `agent:<id>`. `intent` is added by the hub
 * for entries about one of the caller's intents (its kind and payload, for display); it is not part of the chain.
 */
export const AuditEntrySchema = v.object({
  seq: SeqSchema,
  time: EpochMsSchema,
  actor: v.string(),
  agent: v.nullable(v.string()),
  resource: v.nullable(v.string()),
  action: v.string(),
  request_id: v.nullable(v.string()),
  prev_hash: Sha256HexSchema,
  entry_hash: Sha256HexSchema,
  intent: v.optional(v.object({ kind: v.string(), payload: plainObject })),
});
/**
 * GET /v1/audit?limit=N&before=SEQ (human): the entries that concern the caller's account, newest first, with seq
 * below `before`; `next_before` is the `before` for the next page (null on the last one); `head` is the newest
 * entry of the whole chain (all accounts), to compare with `clawkeep audit verify`.
 */
export const AuditListResponseSchema = v.object({
  entries: v.array(AuditEntrySchema),
  next_before: v.nullable(SeqSchema),
  head: v.object({ seq: SeqSchema, entry_hash: Sha256HexSchema }),
  /** CKAH signed by the hub's identity key (docs/protocol.md §11). */
  signed_head: v.optional(SignedAnySchema),
  /** With `since=SEQ`: hex hashes proving the tree of the first SEQ entries is a prefix of the signed one. */
  consistency: v.optional(v.nullable(v.pipe(v.array(Sha256HexSchema), v.maxLength(128)))),
});

/** GET /v1/hub-key?challenge=C: the hub's identity key and, for a challenge, its signed CKHI proof. */
export const HubKeyResponseSchema = v.object({
  hub_key: SigningKeySchema,
  fingerprint: v.string(),
  proof: v.nullable(SignedAnySchema),
});
export type HubKeyResponse = {
  hub_key: string;
  fingerprint: string;
  proof: { statement: unknown; signature: string } | null;
};

/** Every non-2xx response. `hub_origin` comes with `wrong_hub_origin` only: the hub's public origin. */
export const ErrorBodySchema = v.object({
  error: v.object({
    code: v.string(),
    message: v.string(),
    request_id: v.string(),
    hub_origin: v.optional(v.string()),
  }),
});

export type Manifest = v.InferOutput<typeof ManifestSchema>;
export type RegisterAgentRequest = v.InferOutput<typeof RegisterAgentRequestSchema>;
export type RegisterAgentResponse = v.InferOutput<typeof RegisterAgentResponseSchema>;
export type AgentMeResponse = v.InferOutput<typeof AgentMeResponseSchema>;
export type ClaimLookupRequest = v.InferOutput<typeof ClaimLookupRequestSchema>;
export type ClaimLookupResponse = v.InferOutput<typeof ClaimLookupResponseSchema>;
export type ClaimRequest = v.InferOutput<typeof ClaimRequestSchema>;
export type ClaimResponse = v.InferOutput<typeof ClaimResponseSchema>;
export type RevokeResponse = v.InferOutput<typeof RevokeResponseSchema>;
export type InstallationStatus = v.InferOutput<typeof InstallationStatusSchema>;
export type Installation = v.InferOutput<typeof InstallationSchema>;
export type InstallationListResponse = v.InferOutput<typeof InstallationListResponseSchema>;
export type SecretRequestPayload = v.InferOutput<typeof SecretRequestPayloadSchema>;
export type ActionApprovePayload = v.InferOutput<typeof ActionApprovePayloadSchema>;
export type PaymentSendPayload = v.InferOutput<typeof PaymentSendPayloadSchema>;
export type ShellExecPayload = v.InferOutput<typeof ShellExecPayloadSchema>;
export type MessageSendPayload = v.InferOutput<typeof MessageSendPayloadSchema>;
export type CreateIntentRequest = v.InferOutput<typeof CreateIntentRequestSchema>;
export type IntentStatus = v.InferOutput<typeof IntentStatusSchema>;
export type Intent = v.InferOutput<typeof IntentSchema>;
export type IntentListResponse = v.InferOutput<typeof IntentListResponseSchema>;
export type DecisionRequest = v.InferOutput<typeof DecisionRequestSchema>;
export type ExecuteResponse = v.InferOutput<typeof ExecuteResponseSchema>;
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;
export type AuditEntry = v.InferOutput<typeof AuditEntrySchema>;
export type AuditListResponse = v.InferOutput<typeof AuditListResponseSchema>;
export type ConfigPutResponse = v.InferOutput<typeof ConfigPutResponseSchema>;
export type ConfigDeleteResponse = v.InferOutput<typeof ConfigDeleteResponseSchema>;
export type AgentConfigResponse = v.InferOutput<typeof AgentConfigResponseSchema>;

/**
 * Parses `value` with `schema`, throwing `protocol_invalid` naming the first failing field (never its value).
 * @example const body = parseWire(RegisterAgentRequestSchema, jsonBody(await readBody(c)));
 */
export function parseWire<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = v.getDotPath(issue) ?? 'body';
  throw invalid(`${path}: ${issue.expected ? `expected ${issue.expected}` : issue.message.replace(/"[^"]*"/g, '…')}.`);
}
