import { HTTP_METHODS, isHttpHost, type SecretUse } from '../../protocol/http-request';
import type { Intent } from '../../protocol/wire';
import { HubClientError } from '../../hub-client/errors';
import {
  dailyLimitProblem,
  httpRuleScope,
  normalPlaces,
  pathPrefixProblem,
  pathWithin,
  placeKey,
  RULE_LIMIT_DEFAULT,
  RULE_LIMIT_MAX,
  RULE_WINDOW_MS,
  type HttpRuleScope,
} from '../../hub-client/http-rule-scope';
import type { VaultService } from '../../vault/vault-service';
import type { RecordListStore } from '../vault/vault-record-list';

/**
 * Standing rules for `http.request` (issue 18): "Don't ask again" on a call stores a rule, not a payload hash: the
 * same agent (hub, installation, agent key), the same method and host, a path under the chosen prefix, secrets only
 * where the approved call put them, and at most `limit_per_day` calls in any rolling 24 hours. The query, the body
 * and the other headers may differ. A request outside the rule, or over its limit, is shown to the person.
 *
 * Rules live in the standing approvals' record list (hub-standing-approvals.ts), told apart by their `rule` field,
 * which names the entry's format and version. Entries without it are the exact-payload approvals stored since
 * before rules existed and are read as before. An entry of an unknown format (a newer Clawkeep's) is dropped when
 * read, like a damaged one: it then approves nothing.
 */
export const HTTP_RULE_FORMAT = 'http.request/1';
export const HTTP_RULE_KINDS: readonly string[] = ['http.request'];

export interface HttpRule {
  rule: typeof HTTP_RULE_FORMAT;
  id: string;
  hub: string;
  installation_id: string;
  agent_id: string;
  kind: 'http.request';
  method: string;
  host: string;
  path_prefix: string;
  /** The item names the rule may use, sorted; a request may use these or fewer. */
  secrets: string[];
  /** Where each of them may go (header, query parameter, body): a request may put them nowhere else. */
  places: SecretUse[];
  limit_per_day: number;
  /** When the rule answered, within the last 24 hours only (older times are dropped at each use). */
  used_at: number[];
  created_at: number;
  last_used_at: number | null;
  /** Calls answered in all, since the rule was made. */
  uses: number;
}

/** What the person chose on the card; omitted parts take the request's own path and the default limit. */
export interface HttpRuleChoice {
  path_prefix?: string;
  limit_per_day?: number;
}

export const isHttpRule = (r: object): r is HttpRule => 'rule' in r;

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function parsePlace(v: unknown): SecretUse | null {
  const p = v as Partial<Record<string, unknown>> | null;
  if (!p || typeof p !== 'object' || !isString(p.secret)) return null;
  if (p.in === 'header' && isString(p.header)) return { secret: p.secret, in: 'header', header: p.header };
  if (p.in === 'query' && typeof p.parameter === 'string')
    return { secret: p.secret, in: 'query', parameter: p.parameter };
  if (p.in === 'body') return { secret: p.secret, in: 'body' };
  return null;
}

/** A stored rule, strictly: any field out of shape drops the whole rule (it then approves nothing). */
export function parseHttpRule(v: unknown): HttpRule | null {
  const a = v as Partial<Record<keyof HttpRule, unknown>> | null;
  if (!a || typeof a !== 'object' || a.rule !== HTTP_RULE_FORMAT || a.kind !== 'http.request') return null;
  if (![a.id, a.hub, a.installation_id, a.agent_id].every(isString)) return null;
  if (!(HTTP_METHODS as readonly unknown[]).includes(a.method) || !isHttpHost(a.host)) return null;
  if (typeof a.path_prefix !== 'string' || !a.path_prefix.startsWith('/')) return null;
  if (!Array.isArray(a.secrets) || !a.secrets.every(isString) || !Array.isArray(a.places)) return null;
  const places = a.places.map(parsePlace);
  if (places.some((p) => p === null)) return null;
  const secrets = [...new Set(a.secrets)].sort();
  // Every place names one of the rule's secrets, and every secret has a place: the two lists describe one scope.
  const placed = new Set((places as SecretUse[]).map((p) => p.secret));
  if (placed.size !== secrets.length || !secrets.every((s) => placed.has(s))) return null;
  if (dailyLimitProblem(a.limit_per_day as number) !== null || !isTime(a.created_at)) return null;
  if (!Array.isArray(a.used_at) || !a.used_at.every(isTime)) return null;
  return {
    rule: HTTP_RULE_FORMAT,
    id: a.id as string,
    hub: a.hub as string,
    installation_id: a.installation_id as string,
    agent_id: a.agent_id as string,
    kind: 'http.request',
    method: a.method as string,
    host: a.host,
    path_prefix: a.path_prefix,
    secrets,
    places: normalPlaces(places as SecretUse[]),
    limit_per_day: a.limit_per_day as number,
    used_at: [...a.used_at].sort((x, y) => x - y).slice(-RULE_LIMIT_MAX),
    created_at: a.created_at,
    last_used_at: isTime(a.last_used_at) ? a.last_used_at : null,
    uses: isTime(a.uses) ? Math.floor(a.uses) : 0,
  };
}

/** The scope of `intent` if it is a valid http.request, else null (a malformed request matches no rule). */
function scopeOf(intent: Intent): HttpRuleScope | null {
  if (intent.kind !== 'http.request') return null;
  try {
    return httpRuleScope(intent.payload);
  } catch {
    return null;
  }
}

/** How many calls the rule answered in the rolling 24 hours before `now` (times ahead of `now` count too). */
export const usesInWindow = (rule: HttpRule, now: number): number =>
  rule.used_at.filter((t) => t > now - RULE_WINDOW_MS).length;

/**
 * Whether `rule` answers `intent` now: same hub, installation, agent and kind; same method and host; the path
 * under the prefix at a segment boundary; every secret used is the rule's and goes only where the rule lets it; and
 * the rule answered fewer than its limit in the last 24 hours.
 */
export function matchesHttpRule(rule: HttpRule, hub: string, intent: Intent, now: number): boolean {
  if (
    rule.hub !== hub ||
    rule.installation_id !== intent.installation_id ||
    rule.agent_id !== intent.agent_id ||
    rule.kind !== intent.kind
  )
    return false;
  const scope = scopeOf(intent);
  if (!scope || scope.method !== rule.method || scope.host !== rule.host) return false;
  if (!pathWithin(rule.path_prefix, scope.path)) return false;
  const allowed = new Set(rule.places.map(placeKey));
  if (!scope.places.every((p) => allowed.has(placeKey(p)))) return false;
  return usesInWindow(rule, now) < rule.limit_per_day;
}

/**
 * The rule for a call the person approves with "Don't ask again", from the request and their choice.
 * @throws HubClientError `standing_rule_invalid` when the prefix is not a prefix of the request's path at a segment
 * boundary or the limit is out of range (before anything is signed); `protocol_invalid` for a malformed request.
 */
export function httpRuleFor(hub: string, intent: Intent, choice: HttpRuleChoice, now: number, id: string): HttpRule {
  const scope = scopeOf(intent);
  if (!scope) throw new HubClientError('protocol_invalid', 'Only a valid HTTP request can have a standing rule.');
  const path_prefix = choice.path_prefix ?? scope.path;
  const limit_per_day = choice.limit_per_day ?? RULE_LIMIT_DEFAULT;
  const problem = pathPrefixProblem(path_prefix, scope.path) ?? dailyLimitProblem(limit_per_day);
  if (problem) throw new HubClientError('standing_rule_invalid', problem);
  return {
    rule: HTTP_RULE_FORMAT,
    id,
    hub,
    installation_id: intent.installation_id,
    agent_id: intent.agent_id,
    kind: 'http.request',
    method: scope.method,
    host: scope.host,
    path_prefix,
    secrets: scope.secrets,
    places: scope.places,
    limit_per_day,
    used_at: [],
    created_at: now,
    last_used_at: null,
    uses: 0,
  };
}

const sameScope = (a: HttpRule, b: HttpRule): boolean =>
  a.hub === b.hub &&
  a.installation_id === b.installation_id &&
  a.agent_id === b.agent_id &&
  a.method === b.method &&
  a.host === b.host &&
  a.path_prefix === b.path_prefix &&
  a.places.map(placeKey).join('\n') === b.places.map(placeKey).join('\n');

/**
 * Adds `rule`; a rule of the same scope is replaced by it but keeps its use times and count, so choosing "Don't ask
 * again" on a request that went over the limit changes the limit instead of starting a fresh window.
 */
export function withHttpRule<T extends object>(list: (T | HttpRule)[], rule: HttpRule): (T | HttpRule)[] {
  const i = list.findIndex((r) => isHttpRule(r) && sameScope(r, rule));
  if (i === -1) return [...list, rule];
  const old = list[i] as HttpRule;
  return list.with(i, { ...rule, id: old.id, used_at: old.used_at, uses: old.uses, last_used_at: old.last_used_at });
}

/** The rule after answering one call at `now`: the time joins the window (older ones leave it). */
export const withUse = (rule: HttpRule, now: number): HttpRule => ({
  ...rule,
  used_at: [...rule.used_at.filter((t) => t > now - RULE_WINDOW_MS), now],
  uses: rule.uses + 1,
  last_used_at: now,
});

/**
 * Takes one use of the first rule that answers `intent` now, in the same read → change → write as the check: the
 * store runs one change at a time, so two intents arriving together cannot both pass a limit of one. Returns the
 * rule's id, or null when no rule answers (the person is asked).
 *
 * A use taken is never given back, even when sending the approval fails afterwards: by then the browser may already
 * have made the call with the secret, and the limit bounds calls made, not answers delivered.
 */
export function takeHttpRuleUse<T extends object>(
  store: RecordListStore<T | HttpRule>,
  service: VaultService,
  hub: string,
  intent: Intent,
  now: number,
): Promise<string | null> {
  return store.update(service, (list) => {
    const i = list.findIndex((r) => isHttpRule(r) && matchesHttpRule(r, hub, intent, now));
    if (i === -1) return { next: null, value: null };
    const rule = list[i] as HttpRule;
    return { next: list.with(i, withUse(rule, now)), value: rule.id };
  });
}
