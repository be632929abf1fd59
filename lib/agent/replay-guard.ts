import { isAgentNonce, type ApprovalStatement } from '../protocol/approval';
import { isEpoch, isId, isSha256Hex } from '../protocol/fields';
import { KIND_PATTERN } from '../protocol/intent-hash';
import { AgentError } from './errors';

/**
 * The agent's own memory of what it asked for and what it executed (issue 13 item 6), kept in its state so it
 * survives a restart. The hub could otherwise answer a new request with an old intent id and that intent's old,
 * genuinely signed approval, and one human click would run twice. The defences, each checked by the agent alone:
 *
 * - every request carries a fresh `agent_nonce` (16 random bytes) the device signs into the approval (CKAP v2);
 *   an approval is accepted only with the nonce this agent generated for this very intent;
 * - an intent is executed at most once: its id moves from `requests` to `executed`, and a repeat is refused;
 * - an approval signed before the request was made, or after the intent's expiry, is refused (clock skew allowed).
 *
 * Both lists are bounded and pruned once an entry is past its expiry: after that, an approval for it fails the
 * expiry check and the id is unknown anyway (an unknown intent is never executed).
 */

/** A request this agent made and has not executed. */
export interface OpenRequest {
  intent_id: string;
  kind: string;
  /** The payload hash the agent computed itself from what it sent. */
  payload_hash: string;
  /** The nonce it sent with POST /v1/intents (base64url of 16 random bytes). */
  agent_nonce: string;
  /** Epoch ms on the agent's clock just before it sent the request. */
  requested_at: number;
  /** The intent's expiry: the hub's expires_at, capped at requested_at + the protocol's lifetime. */
  expires_at: number;
}

/** An intent this agent executed: never again. */
export interface ExecutedIntent {
  intent_id: string;
  agent_nonce: string;
  expires_at: number;
}

/**
 * Clocks of the agent and of the device differ. 60 s is the window the hub already enforces on every signed request
 * (docs/protocol.md §5): a device or agent further off cannot talk to the hub at all, so a wider tolerance here would
 * buy nothing, and a narrower one would refuse honest approvals.
 */
export const APPROVAL_CLOCK_SKEW_MS = 60_000;
/** The protocol's intent lifetime (docs/protocol.md §8 "Lifetime"): a hub cannot stretch an intent beyond it. */
export const INTENT_LIFETIME_MS = 10 * 60_000;
/** At most this many requests awaiting execution are remembered (the oldest is dropped: it can then not execute). */
export const MAX_OPEN_REQUESTS = 256;
/** At most this many executed intents are remembered (bounded state file). */
export const MAX_EXECUTED = 1024;

export interface ReplayRecords {
  requests?: OpenRequest[];
  executed?: ExecutedIntent[];
}

const isOpen = (r: unknown): r is OpenRequest => {
  const o = r as Partial<OpenRequest> | null;
  return (
    !!o &&
    typeof o === 'object' &&
    isId(o.intent_id) &&
    typeof o.kind === 'string' &&
    KIND_PATTERN.test(o.kind) &&
    isSha256Hex(o.payload_hash) &&
    isAgentNonce(o.agent_nonce) &&
    isEpoch(o.requested_at) &&
    isEpoch(o.expires_at)
  );
};
const isExecuted = (r: unknown): r is ExecutedIntent => {
  const o = r as Partial<ExecutedIntent> | null;
  return !!o && typeof o === 'object' && isId(o.intent_id) && isAgentNonce(o.agent_nonce) && isEpoch(o.expires_at);
};

/** Validates the records of a state document. @returns null if fine, else the name of the bad field. */
export function replayRecordsProblem(v: { requests?: unknown; executed?: unknown }): string | null {
  if (
    v.requests !== undefined &&
    !(Array.isArray(v.requests) && v.requests.length <= MAX_OPEN_REQUESTS && v.requests.every(isOpen))
  )
    return 'requests';
  if (
    v.executed !== undefined &&
    !(Array.isArray(v.executed) && v.executed.length <= MAX_EXECUTED && v.executed.every(isExecuted))
  )
    return 'executed';
  return null;
}

/** Copies of the records (only known fields). */
export function copyReplayRecords(v: ReplayRecords): ReplayRecords {
  const out: ReplayRecords = {};
  if (v.requests) out.requests = v.requests.map((r) => ({ ...r }));
  if (v.executed)
    out.executed = v.executed.map((e) => ({
      intent_id: e.intent_id,
      agent_nonce: e.agent_nonce,
      expires_at: e.expires_at,
    }));
  return out;
}

const live = <T extends { expires_at: number }>(list: readonly T[] | undefined, now: number): T[] =>
  (list ?? []).filter((r) => r.expires_at + APPROVAL_CLOCK_SKEW_MS >= now);

export const findRequest = (records: ReplayRecords, intentId: string): OpenRequest | undefined =>
  records.requests?.find((r) => r.intent_id === intentId);

export const wasExecuted = (records: ReplayRecords, intentId: string): boolean =>
  (records.executed ?? []).some((e) => e.intent_id === intentId);

/**
 * The records after this agent's hub accepted a new request. Refuses an intent id this agent already executed or
 * already holds under another nonce: the hub is answering a new request with an old intent.
 * @throws AgentError `approval_replayed`
 */
export function withRequest(records: ReplayRecords, request: OpenRequest, now: number): ReplayRecords {
  if (wasExecuted(records, request.intent_id)) {
    throw new AgentError(
      'approval_replayed',
      'The hub answered a new request with an intent this agent already executed.',
    );
  }
  const same = findRequest(records, request.intent_id);
  if (same && same.agent_nonce !== request.agent_nonce) {
    throw new AgentError('approval_replayed', 'The hub answered a new request with an intent of an earlier request.');
  }
  const requests = [...live(records.requests, now).filter((r) => r.intent_id !== request.intent_id), request].slice(
    -MAX_OPEN_REQUESTS,
  );
  return { ...records, requests, executed: live(records.executed, now) };
}

/** The records once `request` was executed: it leaves the open list and joins the executed one. */
export function withExecuted(records: ReplayRecords, request: OpenRequest, now: number): ReplayRecords {
  const executed = [
    ...live(records.executed, now).filter((e) => e.intent_id !== request.intent_id),
    { intent_id: request.intent_id, agent_nonce: request.agent_nonce, expires_at: request.expires_at },
  ].slice(-MAX_EXECUTED);
  return {
    ...records,
    requests: live(records.requests, now).filter((r) => r.intent_id !== request.intent_id),
    executed,
  };
}

/**
 * The open request an execute may use: known to this agent, not executed, not past its expiry.
 * @throws AgentError `approval_replayed` (executed already), `intent_expired`, `state_invalid` (never requested)
 */
export function requestToExecute(records: ReplayRecords, intentId: string, now: number): OpenRequest {
  if (wasExecuted(records, intentId))
    throw new AgentError('approval_replayed', 'This agent executed this intent already: an approval is used once.');
  const request = findRequest(records, intentId);
  if (!request)
    throw new AgentError(
      'state_invalid',
      'This agent has no open request with that intent id (never made, or forgotten after its expiry).',
    );
  if (now > request.expires_at + APPROVAL_CLOCK_SKEW_MS)
    throw new AgentError('intent_expired', 'The intent is past its expiry: its approval is no longer accepted.');
  return request;
}

/**
 * An approval's own time must fall inside the request's life: not before the agent asked (less the skew), not after
 * the intent expired (plus the skew). Its nonce was already matched by verifyApproval.
 * @throws AgentError `approval_replayed`
 */
export function checkApprovalTime(approval: ApprovalStatement, request: OpenRequest): void {
  if (approval.time < request.requested_at - APPROVAL_CLOCK_SKEW_MS) {
    throw new AgentError(
      'approval_replayed',
      'The approval was signed before this request was made: it answers another request.',
    );
  }
  if (approval.time > request.expires_at + APPROVAL_CLOCK_SKEW_MS) {
    throw new AgentError('approval_replayed', 'The approval was signed after the intent expired.');
  }
}
