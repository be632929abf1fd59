import { wipe } from '../bytes';
import { ClawkeepError } from '../errors';
import { isItemName } from '../protocol/scopes';
import type { AgentClient, SentIntent } from './client';
import { AgentError, type AgentErrorCode } from './errors';

/**
 * OpenClaw's `exec` SecretRef provider protocol (openclaw docs/gateway/secrets/secretref-contract.md), answered
 * through the Clawkeep hub's approval flow. OpenClaw runs the provider with
 * stdin `{"protocolVersion":1,"provider":"<alias>","ids":[…]}` and reads one JSON object from stdout:
 * `{"protocolVersion":1,"values":{id:value},"errors":{id:{"code"}}}`.
 *
 * Mapping: a SecretRef id names the vault item of the same name (id `mock/apiKey` → item `mock/apiKey`), asked for
 * with `secret.request {item: id, reason: openclawSecretReason(...)}`. The reason is a fixed function of gateway
 * label, provider alias and id, so the payload of a given ref never changes: the human's device can recognise it
 * (and a device-side standing grant can match it exactly).
 *
 * Only the human's device can open the vault and seal a secret (secret.request is always in approval_required), so
 * the hub can never release one by itself. What this side remembers (the grants file, no values) is the intent
 * still pending per ref: OpenClaw's time limit (default 5 s) is shorter than a human, so a ref whose prompt is still
 * open is not asked again on the next run; the next run picks up the decision (an approved-but-unused intent is
 * executed then; a denial is reported once, and the run after asks again). Nothing here stores a secret value.
 */

export const OPENCLAW_EXEC_PROTOCOL_VERSION = 1;

export interface ExecProviderRequest {
  protocolVersion: 1;
  provider: string;
  ids: string[];
}

export interface ExecProviderError {
  code: OpenClawSecretErrorCode;
}

export interface ExecProviderResponse {
  protocolVersion: 1;
  values: Record<string, string>;
  errors?: Record<string, ExecProviderError>;
}

/**
 * Per-id error codes written to OpenClaw (never with a message: OpenClaw does not show free text because resolver
 * output may hold credentials; our diagnostics go to stderr).
 * - `NOT_FOUND`: the hub refused the item (not granted to this agent, or no such vault item).
 * - `DENIED`: the human denied this request.
 * - `PENDING`: no decision before OpenClaw's limit; the prompt stays open and the next run picks up the decision.
 * - `EXPIRED`: the request expired undecided.
 * - `REVOKED`: the installation was revoked in the extension; nothing more is answered.
 * - `NOT_CLAIMED`: the agent is not claimed yet.
 * - `UNTRUSTED`: the approval or sealed secret did not verify (a hub problem or attack); the value is not used.
 * - `UNAVAILABLE`: the hub cannot be reached or failed.
 * - `INVALID_REQUEST`: the request or id is malformed.
 * - `NOT_TEXT`: the vault value is not UTF-8 text.
 */
export type OpenClawSecretErrorCode =
  | 'NOT_FOUND'
  | 'DENIED'
  | 'PENDING'
  | 'EXPIRED'
  | 'REVOKED'
  | 'NOT_CLAIMED'
  | 'UNTRUSTED'
  | 'UNAVAILABLE'
  | 'INVALID_REQUEST'
  | 'NOT_TEXT';

// openclaw's own validation of exec refs (secretref-contract.md).
const PROVIDER_ALIAS = /^[a-z][a-z0-9_-]{0,63}$/;
const REF_ID = /^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$/;
const MAX_IDS = 256;

export const isProviderAlias = (v: unknown): v is string => typeof v === 'string' && PROVIDER_ALIAS.test(v);
export const isRefId = (v: unknown): v is string =>
  typeof v === 'string' && REF_ID.test(v) && !v.split('/').some((s) => s === '.' || s === '..') && isItemName(v);

/** A gateway label: what the human sees as the requesting gateway (set with `--gateway`). */
export const isGatewayLabel = (v: unknown): v is string =>
  typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/.test(v);

/** Codes of ExecRequestError. */
export type ExecRequestErrorCode = 'exec_request_invalid';

/** The exec-provider request on stdin is malformed, too large or not closed in time. */
export class ExecRequestError extends ClawkeepError {
  declare readonly code: ExecRequestErrorCode;
  /** The ids we could read from the malformed request, to answer each with INVALID_REQUEST. */
  readonly ids: string[];
  constructor(message: string, ids: string[] = []) {
    super('exec_request_invalid', message);
    this.name = 'ExecRequestError';
    this.ids = ids;
  }
}

/** Parses the provider's stdin. @throws ExecRequestError (with the readable string ids, if any). */
export function parseExecProviderRequest(text: string): ExecProviderRequest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ExecRequestError('stdin is not JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new ExecRequestError('stdin is not a JSON object');
  const v = json as Record<string, unknown>;
  const ids = Array.isArray(v.ids)
    ? [...new Set(v.ids.filter((x): x is string => typeof x === 'string' && x.length <= 256))]
    : [];
  if (v.protocolVersion !== OPENCLAW_EXEC_PROTOCOL_VERSION)
    throw new ExecRequestError('protocolVersion must be 1', ids);
  if (!isProviderAlias(v.provider)) throw new ExecRequestError('provider is not a valid alias', ids);
  if (!Array.isArray(v.ids) || v.ids.length === 0 || v.ids.length > MAX_IDS || ids.length !== new Set(v.ids).size) {
    throw new ExecRequestError(`ids must be 1..${MAX_IDS} strings`, ids);
  }
  return { protocolVersion: 1, provider: v.provider, ids };
}

/** The fixed reason sent with every request for this ref: the human sees which gateway and provider ask. */
export function openclawSecretReason(ref: { gateway: string; provider: string; id: string }): string {
  return `OpenClaw gateway "${ref.gateway}" loads "${ref.id}" through its exec secret provider "${ref.provider}" (clawkeep openclaw-secret).`;
}

/** The secret.request payload for one ref: the item is the id verbatim. */
export function openclawSecretPayload(ref: { gateway: string; provider: string; id: string }): SentIntent {
  return { kind: 'secret.request', payload: { item: ref.id, reason: openclawSecretReason(ref) } };
}

/** The grants file: per ref, the intent still open and when it was last approved. Never values. */
export interface OpenClawGrantsDoc {
  version: 1;
  /** Key `gateway|provider|id`. */
  refs: Record<string, OpenClawRefRecord>;
}

export interface OpenClawRefRecord {
  /** The intent asked for and not yet used (pending, or approved but not executed). */
  pending_intent_id?: string;
  /** Epoch ms of the last approval this provider used: informational. */
  last_approved_at?: number;
  /** The installation that last approved. */
  installation_id?: string;
}

export const refKey = (ref: { gateway: string; provider: string; id: string }): string =>
  `${ref.gateway}|${ref.provider}|${ref.id}`;

export function parseGrantsDoc(value: unknown): OpenClawGrantsDoc {
  const doc: OpenClawGrantsDoc = { version: 1, refs: {} };
  if (value === null || typeof value !== 'object' || (value as { version?: unknown }).version !== 1) return doc;
  const refs = (value as { refs?: unknown }).refs;
  if (refs === null || typeof refs !== 'object') return doc;
  for (const [k, r] of Object.entries(refs as Record<string, unknown>)) {
    if (r === null || typeof r !== 'object') continue;
    const rec = r as Record<string, unknown>;
    const out: OpenClawRefRecord = {};
    if (typeof rec.pending_intent_id === 'string') out.pending_intent_id = rec.pending_intent_id;
    if (typeof rec.last_approved_at === 'number') out.last_approved_at = rec.last_approved_at;
    if (typeof rec.installation_id === 'string') out.installation_id = rec.installation_id;
    doc.refs[k] = out;
  }
  return doc;
}

export interface ResolveOptions {
  client: AgentClient;
  request: ExecProviderRequest;
  /** Label of the gateway in the reason (default "openclaw"). */
  gateway?: string;
  /** Epoch ms by which the answer must be written. */
  deadline: number;
  grants: OpenClawGrantsDoc;
  /** Persist the grants doc (called after changes). */
  saveGrants?: (doc: OpenClawGrantsDoc) => void | Promise<void>;
  now?: () => number;
  /** Diagnostics without values (stderr in the CLI). */
  log?: (line: string) => void;
}

function codeFor(err: unknown): OpenClawSecretErrorCode {
  if (!(err instanceof AgentError)) return 'UNAVAILABLE';
  const c: AgentErrorCode = err.code;
  if (c === 'agent_revoked' || c === 'installation_revoked') return 'REVOKED';
  if (c === 'agent_not_claimed') return 'NOT_CLAIMED';
  if (c === 'scope_not_granted' || c === 'not_found') return 'NOT_FOUND';
  if (c === 'intent_expired') return 'EXPIRED';
  if (c === 'wait_timeout') return 'PENDING';
  if (c === 'protocol_invalid') return 'INVALID_REQUEST';
  if (
    c === 'approval_untrusted' ||
    c === 'approval_replayed' ||
    c === 'sealed_untrusted' ||
    c === 'intent_mismatch' ||
    c === 'claim_untrusted' ||
    c === 'response_invalid'
  )
    return 'UNTRUSTED';
  return 'UNAVAILABLE';
}

class Pending extends Error {}

/**
 * Answers one exec-provider request: every id gets a value or an error by `deadline`. Ids are asked for in
 * parallel; a ref with an intent still open from an earlier run waits on that intent instead of asking again.
 */
export async function resolveOpenClawSecrets(options: ResolveOptions): Promise<ExecProviderResponse> {
  const { client, request, grants } = options;
  const gateway = options.gateway ?? 'openclaw';
  const now = options.now ?? (() => Date.now());
  const log = options.log ?? (() => {});
  const values: Record<string, string> = {};
  const errors: Record<string, ExecProviderError> = {};
  let dirty = false;
  let settled = false;

  async function one(id: string): Promise<void> {
    if (!isRefId(id)) {
      errors[id] = { code: 'INVALID_REQUEST' };
      return;
    }
    const ref = { gateway, provider: request.provider, id };
    const key = refKey(ref);
    const sent = openclawSecretPayload(ref);
    const record = (grants.refs[key] ??= {});
    const forget = () => {
      if (record.pending_intent_id !== undefined) {
        delete record.pending_intent_id;
        dirty = true;
      }
    };
    try {
      let intentId = record.pending_intent_id;
      if (intentId !== undefined) {
        // An intent from an earlier run: use it if it is still open or approved-but-unused.
        try {
          const earlier = await client.getIntent(intentId);
          if (
            earlier.kind !== 'secret.request' ||
            earlier.status === 'denied' ||
            earlier.status === 'expired' ||
            earlier.status === 'executed'
          ) {
            if (earlier.status === 'denied') {
              // Denied after the earlier run gave up: this run reports it; the next one asks again.
              forget();
              errors[id] = { code: 'DENIED' };
              log(`"${id}": denied in Clawkeep (intent ${intentId}).`);
              return;
            }
            intentId = undefined;
          }
        } catch (err) {
          // Only an intent the hub does not know (or shows otherwise) is forgotten; anything else keeps it for next time.
          if (!(
            err instanceof AgentError &&
            (err.code === 'not_found' || err.code === 'intent_mismatch' || err.code === 'protocol_invalid')
          ))
            throw err;
          intentId = undefined;
        }
        if (intentId === undefined) forget();
      }
      if (intentId === undefined) {
        const intent = await client.createIntent(sent);
        intentId = intent.intent_id;
        record.pending_intent_id = intentId;
        dirty = true;
        log(`"${id}": asked the human in Clawkeep (intent ${intentId}).`);
      }
      const left = options.deadline - now();
      if (left <= 0) throw new Pending();
      const { decision } = await client.waitForDecision(intentId, { timeoutMs: left, pollMs: 200, maxPollMs: 1000 });
      if (settled) return;
      if (decision === 'denied') {
        forget();
        errors[id] = { code: 'DENIED' };
        log(`"${id}": denied in Clawkeep.`);
        return;
      }
      if (decision === 'expired') {
        forget();
        errors[id] = { code: 'EXPIRED' };
        log(`"${id}": the request expired undecided.`);
        return;
      }
      const result = await client.execute(intentId, sent);
      forget();
      const secret = result.secret!;
      try {
        if (settled) return;
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(secret);
        } catch {
          errors[id] = { code: 'NOT_TEXT' };
          return;
        }
        values[id] = text;
        record.last_approved_at = now();
        if (client.state?.installation_id) record.installation_id = client.state.installation_id;
        dirty = true;
        log(`"${id}": approved; delivered (device signature and sealing verified).`);
      } finally {
        wipe(secret);
      }
    } catch (err) {
      if (settled) return;
      if (err instanceof Pending) {
        errors[id] = { code: 'PENDING' };
        return;
      }
      const code = codeFor(err);
      if (code !== 'PENDING' && code !== 'UNAVAILABLE') forget();
      errors[id] = { code };
      log(
        `"${id}": ${code}${err instanceof AgentError ? ` (${err.code}: ${err.message})` : err instanceof Error ? ` (${err.message})` : ''}`,
      );
    }
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, options.deadline - now()));
  });
  await Promise.race([Promise.all(request.ids.map(one)), timeUp]);
  clearTimeout(timer);
  settled = true;
  for (const id of request.ids) {
    if (!(id in values) && !(id in errors)) {
      // Out of time while the SDK was still retrying a hub that does not answer: that is not "undecided".
      if (!options.client.lastCallReachedHub) {
        errors[id] = { code: 'UNAVAILABLE' };
        log(`"${id}": the hub could not be reached before the time limit.`);
        continue;
      }
      errors[id] = { code: 'PENDING' };
      log(`"${id}": no decision yet; approve it in Clawkeep and the next reload picks it up.`);
    }
  }
  if (dirty) await options.saveGrants?.(grants);
  const response: ExecProviderResponse = { protocolVersion: 1, values };
  if (Object.keys(errors).length > 0) response.errors = errors;
  return response;
}
