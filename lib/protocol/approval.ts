import { fromBase64UrlFixed } from './base64url';
import { ProtocolError } from './errors';
import { check, isEpoch, isId, isOrigin, isSha256Hex } from './fields';
import { KIND_PATTERN } from './intent-hash';
import { defaultApprovalRequired } from './intent-kinds';
import { decodePublicKey } from './keys';
import { isCanonicalScopeList, type Scope } from './scopes';
import {
  signStatement,
  statementBytes,
  verifyStatement,
  type SignedStatement,
  type StatementFormat,
} from './signed-statement';

export type { SignedStatement } from './signed-statement';

/**
 * Statements the human's device key signs (docs/protocol.md §3), Ed25519 over
 *
 * ```text
 *   approval: "CKAP" | 0x02 | canonicalBytes({hub, intent_id, payload_hash, decision, installation_id, agent_nonce, time})
 *   claim:    "CKCL" | 0x01 | canonicalBytes({hub, agent_id, agent_signing_key, agent_box_key, claim_code_hash,
 *                                             granted_scopes, policy, installation_id, device_key, time})
 * ```
 *
 * An approval binds the decision to one exact payload (payload_hash), one intent, one installation and one hub,
 * so the hub cannot reuse it for anything else (what you see is what you sign), and to the agent's own `agent_nonce`
 * (16 random bytes the agent sent with POST /v1/intents), so the hub cannot answer a new request of the agent with
 * an old intent and its old approval (issue 13 item 6). CKAP v1 (no agent_nonce) is retired: never signed or
 * accepted (a v1 signature does not verify over v2 bytes). A claim lets the agent check who
 * claimed it, with which grants and policy, without trusting the hub: it carries the device key that signed it.
 * `time` is epoch milliseconds on the device's clock; the hub records it but freshness comes from intent expiry.
 */
export const APPROVAL_TAG = 'CKAP';
export const CLAIM_TAG = 'CKCL';
export const STATEMENT_VERSION = 1;
/** CKAP version: 2 adds `agent_nonce` (v1 is retired, docs/protocol.md §0). */
export const APPROVAL_VERSION = 2;
/** Bytes of the agent's per-request nonce (base64url, 22 characters). */
export const AGENT_NONCE_BYTES = 16;

/** An agent nonce: exactly 16 bytes as strict, unpadded base64url (one encoding per value). */
export function isAgentNonce(v: unknown): v is string {
  if (typeof v !== 'string' || v.length !== 22) return false;
  try {
    fromBase64UrlFixed(v, AGENT_NONCE_BYTES, 'agent_nonce');
    return true;
  } catch {
    return false;
  }
}

export type Decision = 'approve' | 'deny';

export interface ApprovalStatement {
  hub: string;
  intent_id: string;
  payload_hash: string;
  decision: Decision;
  installation_id: string;
  /** The nonce the agent sent when it created the intent: binds the approval to that one request of the agent. */
  agent_nonce: string;
  time: number;
}

/**
 * Installation policy inside a claim, picked by the human when claiming:
 * - `approval_required`: the kinds that need a human decision (sorted, unique). Always contains `secret.request`:
 *   only the device can open the vault and seal a secret, so the hub has nothing it could release by itself.
 * - `daily_limit`: at most this many intents (of any kind) per rolling 24 hours, or null for no limit.
 */
export interface Policy {
  approval_required: string[];
  daily_limit: number | null;
}

/** Bounds of `policy.daily_limit` (requests per rolling 24 hours). */
export const DAILY_LIMIT_MIN = 1;
export const DAILY_LIMIT_MAX = 10_000;
/** The kind that can never be auto-approved and so must stay in `policy.approval_required`. */
export const ALWAYS_APPROVED_KIND = 'secret.request';

export const isDailyLimit = (v: unknown): v is number | null =>
  v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= DAILY_LIMIT_MIN && v <= DAILY_LIMIT_MAX);

/** The policy of a fresh claim: approval for every v1 kind, no daily limit. */
export function defaultPolicy(): Policy {
  return { approval_required: defaultApprovalRequired(), daily_limit: null };
}

/**
 * A policy from a person's choice: kinds sorted and de-duplicated, `secret.request` always added.
 * @throws ProtocolError `claim_invalid` for a malformed kind or a daily limit outside 1..10000 (or null).
 */
export function makePolicy(approvalRequired: readonly string[], dailyLimit: number | null): Policy {
  const kinds = [...new Set([...approvalRequired, ALWAYS_APPROVED_KIND])].sort();
  if (!kinds.every((k) => typeof k === 'string' && KIND_PATTERN.test(k)) || kinds.length > 64) {
    throw new ProtocolError('claim_invalid', 'The policy names a malformed intent kind.');
  }
  if (!isDailyLimit(dailyLimit)) {
    throw new ProtocolError(
      'claim_invalid',
      `The daily limit must be a whole number from ${DAILY_LIMIT_MIN} to ${DAILY_LIMIT_MAX}, or none.`,
    );
  }
  return { approval_required: kinds, daily_limit: dailyLimit };
}

export interface ClaimStatement {
  hub: string;
  agent_id: string;
  agent_signing_key: string;
  agent_box_key: string;
  claim_code_hash: string;
  granted_scopes: Scope[];
  policy: Policy;
  installation_id: string;
  device_key: string;
  time: number;
}

export type SignedApproval = SignedStatement<ApprovalStatement>;
export type SignedClaim = SignedStatement<ClaimStatement>;

/** Own enumerable keys must be exactly `keys`: an extra field would be signed but never checked. */
function exactKeys(value: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  check(value !== null && typeof value === 'object' && !Array.isArray(value), what);
  const got = Object.keys(value as object).sort();
  check(got.length === keys.length && [...keys].sort().every((k, i) => k === got[i]), `${what} fields`);
  return value as Record<string, unknown>;
}

function isSortedUniqueKinds(v: unknown): v is string[] {
  return (
    Array.isArray(v) &&
    v.length <= 64 &&
    v.every((k, i) => typeof k === 'string' && KIND_PATTERN.test(k) && (i === 0 || v[i - 1] < k))
  );
}

const APPROVAL_KEYS = [
  'hub',
  'intent_id',
  'payload_hash',
  'decision',
  'installation_id',
  'agent_nonce',
  'time',
] as const;

export const APPROVAL_FORMAT: StatementFormat<ApprovalStatement> = {
  tag: APPROVAL_TAG,
  version: APPROVAL_VERSION,
  code: 'approval_invalid',
  what: 'Approval',
  validate(value) {
    const v = exactKeys(value, APPROVAL_KEYS, 'approval');
    check(isOrigin(v.hub), 'approval.hub');
    check(isId(v.intent_id), 'approval.intent_id');
    check(isSha256Hex(v.payload_hash), 'approval.payload_hash');
    check(v.decision === 'approve' || v.decision === 'deny', 'approval.decision');
    check(isId(v.installation_id), 'approval.installation_id');
    check(isAgentNonce(v.agent_nonce), 'approval.agent_nonce');
    check(isEpoch(v.time), 'approval.time');
    return {
      hub: v.hub as string,
      intent_id: v.intent_id as string,
      payload_hash: v.payload_hash as string,
      decision: v.decision as Decision,
      installation_id: v.installation_id as string,
      agent_nonce: v.agent_nonce as string,
      time: v.time as number,
    };
  },
};

const CLAIM_KEYS = [
  'hub',
  'agent_id',
  'agent_signing_key',
  'agent_box_key',
  'claim_code_hash',
  'granted_scopes',
  'policy',
  'installation_id',
  'device_key',
  'time',
] as const;

export const CLAIM_FORMAT: StatementFormat<ClaimStatement> = {
  tag: CLAIM_TAG,
  version: STATEMENT_VERSION,
  code: 'claim_invalid',
  what: 'Claim',
  validate(value) {
    const v = exactKeys(value, CLAIM_KEYS, 'claim');
    check(isOrigin(v.hub), 'claim.hub');
    check(isId(v.agent_id), 'claim.agent_id');
    decodePublicKey(v.agent_signing_key as string, 'ed25519', 'claim.agent_signing_key');
    decodePublicKey(v.agent_box_key as string, 'x25519', 'claim.agent_box_key');
    decodePublicKey(v.device_key as string, 'ed25519', 'claim.device_key');
    check(isSha256Hex(v.claim_code_hash), 'claim.claim_code_hash');
    check(isCanonicalScopeList(v.granted_scopes), 'claim.granted_scopes (valid, sorted, unique)');
    const policy = exactKeys(v.policy, ['approval_required', 'daily_limit'], 'claim.policy');
    check(isSortedUniqueKinds(policy.approval_required), 'claim.policy.approval_required (sorted, unique kinds)');
    check(
      (policy.approval_required as string[]).includes(ALWAYS_APPROVED_KIND),
      'claim.policy.approval_required (must contain secret.request)',
    );
    check(isDailyLimit(policy.daily_limit), 'claim.policy.daily_limit (integer 1..10000 or null)');
    check(isId(v.installation_id), 'claim.installation_id');
    check(isEpoch(v.time), 'claim.time');
    return {
      hub: v.hub as string,
      agent_id: v.agent_id as string,
      agent_signing_key: v.agent_signing_key as string,
      agent_box_key: v.agent_box_key as string,
      claim_code_hash: v.claim_code_hash as string,
      granted_scopes: [...(v.granted_scopes as Scope[])],
      policy: {
        approval_required: [...(policy.approval_required as string[])],
        daily_limit: policy.daily_limit as number | null,
      },
      installation_id: v.installation_id as string,
      device_key: v.device_key as string,
      time: v.time as number,
    };
  },
};

/** The exact bytes an approval signature covers ("CKAP" | 0x02 | canonical statement). */
export const approvalBytes = (statement: ApprovalStatement): Uint8Array =>
  statementBytes(APPROVAL_FORMAT, APPROVAL_FORMAT.validate(statement));
/** The exact bytes a claim signature covers ("CKCL" | 0x01 | canonical statement). */
export const claimBytes = (statement: ClaimStatement): Uint8Array =>
  statementBytes(CLAIM_FORMAT, CLAIM_FORMAT.validate(statement));

/**
 * Signs an approval or denial with the device's Ed25519 private key (32-byte seed).
 * @throws ProtocolError `approval_invalid` if the statement is malformed; RangeError for a bad key length.
 */
export function signApproval(privateKey: Uint8Array, statement: ApprovalStatement): SignedApproval {
  return signStatement(APPROVAL_FORMAT, privateKey, statement);
}

export interface ExpectedApproval {
  hub: string;
  intent_id: string;
  payload_hash: string;
  installation_id: string;
  /** The nonce the agent sent with this request (the hub passes the one it stored). */
  agent_nonce: string;
}

/**
 * Verifies the signature under `publicKey` (the device key bound to the installation) and that hub, intent,
 * payload hash, installation and agent nonce are exactly the expected ones. The decision is returned, not assumed.
 * @throws ProtocolError `approval_invalid` for any failure.
 */
export function verifyApproval(publicKey: Uint8Array, signed: unknown, expected: ExpectedApproval): ApprovalStatement {
  const { hub, intent_id, payload_hash, installation_id, agent_nonce } = expected;
  for (const [k, v] of Object.entries({ hub, intent_id, payload_hash, installation_id, agent_nonce })) {
    if (typeof v !== 'string') throw new TypeError(`expected.${k} must be a string`);
  }
  return verifyStatement(APPROVAL_FORMAT, publicKey, signed, {
    hub,
    intent_id,
    payload_hash,
    installation_id,
    agent_nonce,
  });
}

/**
 * Signs a claim with the device key. `statement.device_key` must be the public half of `privateKey`, or the
 * claim would never verify; we check it here rather than let a broken claim reach the hub.
 * @throws ProtocolError `claim_invalid`
 */
export function signClaim(privateKey: Uint8Array, statement: ClaimStatement): SignedClaim {
  const signed = signStatement(CLAIM_FORMAT, privateKey, statement);
  verifyClaim(signed, { hub: statement.hub, agent_id: statement.agent_id });
  return signed;
}

export interface ExpectedClaim {
  hub: string;
  agent_id: string;
  /** The agent knows its own keys: pass them so a claim for other keys is refused. */
  agent_signing_key?: string;
  agent_box_key?: string;
  /** The agent knows its code; the hub knows the hash it stored. */
  claim_code_hash?: string;
  installation_id?: string;
  /** The hub passes the authenticated device's key; an agent pins it after the first claim. */
  device_key?: string;
}

/**
 * Verifies a claim against the device key it names (a claim is self-certifying: whoever holds that key made it;
 * show its fingerprint), then checks every expected field.
 * @throws ProtocolError `claim_invalid`
 */
export function verifyClaim(signed: unknown, expected: ExpectedClaim): ClaimStatement {
  if (typeof expected?.hub !== 'string' || typeof expected.agent_id !== 'string')
    throw new TypeError('expected.hub and expected.agent_id are required');
  const statement = (signed as { statement?: { device_key?: unknown } } | null)?.statement;
  let deviceKey: Uint8Array;
  try {
    deviceKey = decodePublicKey(statement?.device_key as string, 'ed25519', 'claim.device_key');
  } catch (err) {
    throw new ProtocolError('claim_invalid', 'Claim is malformed.', { cause: err });
  }
  return verifyStatement(CLAIM_FORMAT, deviceKey, signed, { ...expected });
}
