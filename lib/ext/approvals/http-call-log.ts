import type { HttpCallView } from '../../hub-client/api';
import type { HttpRequestIntent } from '../../protocol/http-request';
import type { HttpOutcome } from '../../protocol/sealed-response';
import { REFLECTION_FORMS, type ReflectionFormName } from '../../protocol/sealed-response';
import type { Intent } from '../../protocol/wire';
import { HTTP_CALLS_TAG } from '../../storage/vault-tags';
import { RecordListStore, type RecordListSpec } from '../vault/vault-record-list';

/**
 * The device's own record of each http.request call it made for an agent (issue 18, "Audit"): who asked, the
 * method, host and path, the status and the answer's size, and whether a secret was cut from the answer. Never a
 * header's value, a query, a body or a secret. Kept in the vault like standing approvals (encrypted, synced), the
 * newest MAX_CALLS; the Activity tab lists them. The hub's own audit chain records the same intents' approval and
 * execution, without the status or the size, which only the device sees.
 */
const ITEM_NAME = 'HTTP calls made for agents (Clawkeep)';
const ITEM_NOTES = 'The calls the extension made for your agents: method, host, path, status and size only.';
export const MAX_CALLS = 200;

type HttpCallRecord = HttpCallView;

const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= 2048;

function parseRecord(v: unknown): HttpCallRecord | null {
  const r = v as Partial<HttpCallRecord> | null;
  if (!r || typeof r !== 'object') return null;
  if (![r.intent_id, r.installation_id, r.agentName, r.method, r.host, r.path].every(isText)) return null;
  if (typeof r.time !== 'number' || (r.outcome !== 'response' && r.outcome !== 'failed')) return null;
  return {
    intent_id: r.intent_id!,
    installation_id: r.installation_id!,
    agentName: r.agentName!,
    method: r.method!,
    host: r.host!,
    path: r.path!,
    time: r.time,
    outcome: r.outcome,
    status: typeof r.status === 'number' ? r.status : null,
    bytes: typeof r.bytes === 'number' ? r.bytes : 0,
    redacted: Array.isArray(r.redacted)
      ? r.redacted.filter((f): f is ReflectionFormName => (REFLECTION_FORMS as readonly unknown[]).includes(f))
      : [],
    withheld: r.withheld === true,
    redirected: r.redirected === true,
    by: r.by === 'rule' ? 'rule' : 'person',
  };
}

const HTTP_CALLS: RecordListSpec<HttpCallRecord> = {
  tag: HTTP_CALLS_TAG,
  name: ITEM_NAME,
  notes: ITEM_NOTES,
  field: 'calls',
  parse: parseRecord,
};

/** The URL's path without its query (a query may hold a secret's placeholder, or the agent's data). */
export const pathOf = (url: string): string => new URL(url.replace(/\{\{secret:[^}]*\}\}/g, 'X')).pathname;

/** The record of one call made for `intent`. */
export function callRecord(
  intent: Intent,
  request: HttpRequestIntent,
  outcome: HttpOutcome,
  agentName: string,
  by: 'person' | 'rule',
  time: number,
): HttpCallView {
  const answered = outcome.outcome === 'response' ? outcome : null;
  return {
    intent_id: intent.intent_id,
    installation_id: intent.installation_id,
    agentName,
    method: request.method,
    host: request.host,
    path: pathOf(request.url),
    time,
    outcome: answered ? 'response' : 'failed',
    status: answered ? answered.status : null,
    bytes: answered ? Math.floor((answered.body.replace(/=+$/, '').length * 3) / 4) : 0,
    redacted: answered ? answered.redacted : [],
    withheld: answered ? answered.withheld : false,
    redirected: answered ? answered.redirect !== null : false,
    by,
  };
}

/** The call log, newest first, one change at a time. */
export class HttpCallLog extends RecordListStore<HttpCallRecord> {
  constructor() {
    super(HTTP_CALLS);
  }
}

/** `list` with `record` first, cut to the newest MAX_CALLS. */
export const withCall = (list: HttpCallView[], record: HttpCallView): HttpCallView[] =>
  [record, ...list.filter((c) => c.intent_id !== record.intent_id)].slice(0, MAX_CALLS);
