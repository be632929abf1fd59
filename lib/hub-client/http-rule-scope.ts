import { describeSecretUses, parseHttpRequest, type HttpMethod, type SecretUse } from '../protocol/http-request';

/**
 * The scope of a standing rule for `http.request` (issue 18, "Don't ask again"): narrower than "always this agent",
 * wider than one payload. A rule names one method, one host, a path prefix, the places each secret may go, and a
 * daily limit; a request matches when it stays inside all of them. Pure: the card (page) words and checks the
 * person's choice with it, the background checks it again before storing and when matching.
 */

/** Calls a rule answers in any rolling 24 hours, when the person does not change it. */
export const RULE_LIMIT_DEFAULT = 100;
/** The daily limit's bounds: at least one call; at most 10,000 so a rule's use times stay small in the vault item. */
export const RULE_LIMIT_MIN = 1;
export const RULE_LIMIT_MAX = 10_000;
/** The rate limit's window: rolling, so no burst at midnight doubles it. */
export const RULE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** What a request brings to a rule: computed from its payload, on the device. */
export interface HttpRuleScope {
  method: HttpMethod;
  /** As `http:HOST` scopes name it (http-request.ts): `hostname` or `hostname:port`. */
  host: string;
  /** The URL's path without its query, in the URL parser's normal form (placeholders only stand in the query). */
  path: string;
  /** Every place a secret goes (header, query parameter, body), each once, in a stable order. */
  places: SecretUse[];
  /** The item names used, each once, sorted. */
  secrets: string[];
}

/** One spelling per place, to compare and sort places. */
export const placeKey = (u: SecretUse): string =>
  u.in === 'header'
    ? `header:${u.header}:${u.secret}`
    : u.in === 'query'
      ? `query:${u.parameter}:${u.secret}`
      : `body::${u.secret}`;

/** Places without repeats, sorted by placeKey (a rule's stored form does not depend on the order of headers). */
export function normalPlaces(uses: readonly SecretUse[]): SecretUse[] {
  const byKey = new Map<string, SecretUse>();
  for (const u of uses) byKey.set(placeKey(u), u);
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/**
 * The scope of an `http.request` payload.
 * @throws ProtocolError `protocol_invalid` when the payload is not a valid http.request.
 */
export function httpRuleScope(payload: unknown): HttpRuleScope {
  const r = parseHttpRequest(payload);
  // The part before "?" holds no placeholder (http-request.ts allows them only in query values) and is already in
  // normal form, so the parser gives back the path exactly as the card shows it.
  const path = new URL(r.url.split('?', 1)[0]!).pathname;
  const places = normalPlaces(r.secretUses);
  return { method: r.method, host: r.host, path, places, secrets: [...new Set(places.map((u) => u.secret))].sort() };
}

/**
 * Whether `path` lies under `prefix` at a segment boundary: `/v1` covers `/v1` and `/v1/x`, never `/v10`;
 * `/v1/` covers `/v1/x` only; `/` covers every path. Exact comparison: paths are case-sensitive, and an encoded
 * slash (`%2F`) is not a boundary, so a server that decodes it cannot be walked out of the prefix with one.
 */
export function pathWithin(prefix: string, path: string): boolean {
  if (path === prefix) return true;
  if (!path.startsWith(prefix)) return false;
  return prefix.endsWith('/') || path.charAt(prefix.length) === '/';
}

/** Why `prefix` cannot be a rule's path prefix for a request to `path`, in words for the person; null if it can. */
export function pathPrefixProblem(prefix: string, path: string): string | null {
  if (!prefix.startsWith('/')) return 'The path prefix must start with "/".';
  if (!pathWithin(prefix, path))
    return `The path prefix must be the start of this request's path (${path}), ending where a path segment ends.`;
  return null;
}

/** Why `limit` cannot be a rule's daily limit, in words; null if it can. */
export function dailyLimitProblem(limit: number): string | null {
  return Number.isInteger(limit) && limit >= RULE_LIMIT_MIN && limit <= RULE_LIMIT_MAX
    ? null
    : `The daily limit must be a whole number from ${RULE_LIMIT_MIN} to ${RULE_LIMIT_MAX.toLocaleString('en-US')}.`;
}

type RuleShape = { method: string; host: string; path_prefix: string; places: SecretUse[] };

/**
 * A rule's scope in two parts, for pages to set the call apart: `call` "GET https://api.example.com/v1/…" (the "…"
 * says everything under the prefix is covered, with any query and body) and `using` "using your “Token” in the
 * Authorization header" (or "without a secret").
 */
export function httpRuleParts(r: RuleShape): { call: string; using: string } {
  const under = r.path_prefix.endsWith('/') ? `${r.path_prefix}…` : `${r.path_prefix}/…`;
  return {
    call: `${r.method} https://${r.host}${under}`,
    using: r.places.length === 0 ? 'without a secret' : `using ${describeSecretUses(r.places)}`,
  };
}

/** A rule's scope in words: "GET https://api.example.com/v1/… using your “Token” in the Authorization header". */
export function httpRuleWords(r: RuleShape): string {
  const { call, using } = httpRuleParts(r);
  return `${call} ${using}`;
}

/** "up to 100 a day" */
export const dailyLimitWords = (limit: number): string =>
  `up to ${limit.toLocaleString('en-US')} ${limit === 1 ? 'call' : 'calls'} a day`;
