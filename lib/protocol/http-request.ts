import { fromBase64 } from '../bytes';
import { isDisplaySafe } from './display-text';
import { invalid } from './errors';
import { parsePlaceholders, placeholderNames, type PlaceholderSegment } from './secret-placeholders';

/**
 * The payload of an `http.request` intent (issue 18): an HTTPS call the person's browser makes for the agent, with
 * vault secrets put in where `{{secret:NAME}}` placeholders stand (secret-placeholders.ts). The payload hash covers
 * all of it, so the person approves exactly the call that is made.
 *
 * ```text
 *   { method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE",
 *     url: "https://host[:port]/path[?query]",   // placeholders only inside query values
 *     headers?: [[name, value], ...],             // lower-case names; placeholders only inside values
 *     body?: { text: string } | { base64: string }, // placeholders only inside a text body
 *     reason?: string }                           // the agent's words, shown as such
 * ```
 */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Request body bytes at most (decoded), as issue 18 bounds it. */
export const HTTP_BODY_MAX = 64 * 1024;
export const HTTP_HEADERS_MAX = 32;
export const HTTP_HEADER_VALUE_MAX = 4096;
export const HTTP_URL_MAX = 2048;
export const HTTP_REASON_MAX = 1000;

/**
 * Headers the browser sets itself or that would change what the call is (Fetch's forbidden request headers, and
 * cookies: the call never carries the person's own session with a site).
 */
const FORBIDDEN_HEADERS = new Set([
  'accept-charset',
  'accept-encoding',
  'access-control-request-headers',
  'access-control-request-method',
  'connection',
  'content-length',
  'cookie',
  'cookie2',
  'date',
  'dnt',
  'expect',
  'host',
  'keep-alive',
  'origin',
  'referer',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
]);
const FORBIDDEN_HEADER_PREFIXES = ['proxy-', 'sec-'];
/** RFC 9110 §5.6.2 token, lower-case only (one spelling per header in the hashed payload). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$/;
/**
 * RFC 9110 §5.5 field value, narrowed to what a card shows as it is: visible ASCII and inner spaces (no tabs, no
 * leading or trailing whitespace). Checked with each placeholder as "X": the secret's own value is checked when the
 * call is made.
 */
export const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

/**
 * A host as `http:HOST` scopes and a secret's allowed hosts name it: what the WHATWG URL parser gives as `url.host`
 * for an https URL, narrowed to DNS names (A-labels for international names) and IPv4 addresses, with a port only
 * when it is not 443. No IPv6 literals: a card and a host list would have to show brackets people misread.
 */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_PATTERN = new RegExp(`^(?=.{1,253}(?::|$))${LABEL}(?:\\.${LABEL})*(?::[1-9][0-9]{0,4})?$`);

export function isHttpHost(v: unknown): v is string {
  if (typeof v !== 'string' || !HOST_PATTERN.test(v)) return false;
  if (!v.includes(':')) return true;
  const port = Number(v.slice(v.indexOf(':') + 1));
  return port <= 65535 && port !== 443;
}

/** Where a secret goes in the call, for the card's words and the per-secret host check. */
export type SecretUse =
  | { secret: string; in: 'header'; header: string }
  | { secret: string; in: 'query'; parameter: string }
  | { secret: string; in: 'body' };

export interface HttpRequestIntent {
  method: HttpMethod;
  /** The URL as the agent wrote it (placeholders still in). */
  url: string;
  /** `hostname` or `hostname:port` (lower-case), what `http:HOST` scopes and a secret's host list name. */
  host: string;
  headers: [string, string][];
  body: { text: string } | { base64: string } | null;
  reason: string | null;
  /** Every place a secret is used, in order: headers, then query, then body. */
  secretUses: SecretUse[];
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x);

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(`${what}: unknown field "${k}".`);
}

function parseUrl(raw: unknown): { url: string; host: string; query: SecretUse[] } {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > HTTP_URL_MAX)
    throw invalid(`http.request url must be a string of 1-${HTTP_URL_MAX} characters.`);
  if (!isDisplaySafe(raw)) throw invalid('http.request url holds hidden characters.');
  const segments = parsePlaceholders(raw);
  // The URL with each placeholder as a plain "X" must already be in the URL parser's own form (WHATWG URL: lower-case
  // scheme and host, no default port, no dot segments, every character that needs it percent-encoded), so the
  // address the person reads is the address that is called.
  const probe = segments.map((seg) => ('secret' in seg ? 'X' : seg.text)).join('');
  if (/\s/.test(probe)) throw invalid('http.request url holds whitespace.');
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    throw invalid('http.request url is not an absolute URL.');
  }
  if (url.protocol !== 'https:') throw invalid('http.request url must be https.');
  if (url.username || url.password) throw invalid('http.request url must not hold a user name or password.');
  if (url.hash || probe.includes('#')) throw invalid('http.request url must not hold a fragment.');
  if (url.href !== probe)
    throw invalid(`http.request url must be written in its normal form (${url.href.replace(/X/g, '…')} here).`);
  if (!isHttpHost(url.host)) throw invalid('http.request url: the host must be a DNS name or an IPv4 address.');
  return { url: raw, host: url.host, query: queryUses(segments) };
}

/** Where placeholders stand in the URL: only inside a query parameter's value. */
function queryUses(segments: readonly PlaceholderSegment[]): SecretUse[] {
  let state: 'path' | 'name' | 'value' = 'path';
  let name = '';
  const uses: SecretUse[] = [];
  for (const seg of segments) {
    if ('secret' in seg) {
      if (state !== 'value') throw invalid('http.request url: a secret may stand only in a query parameter value.');
      uses.push({ secret: seg.secret, in: 'query', parameter: decodeName(name) });
      continue;
    }
    for (const ch of seg.text) {
      if (state === 'path') {
        if (ch === '?') state = 'name';
      } else if (ch === '&') {
        state = 'name';
        name = '';
      } else if (state === 'name') {
        if (ch === '=') state = 'value';
        else name += ch;
      }
    }
  }
  return uses;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

function parseHeaders(raw: unknown): { headers: [string, string][]; uses: SecretUse[] } {
  if (raw === undefined) return { headers: [], uses: [] };
  if (!Array.isArray(raw) || raw.length > HTTP_HEADERS_MAX)
    throw invalid(`http.request headers must be a list of at most ${HTTP_HEADERS_MAX} [name, value] pairs.`);
  const headers: [string, string][] = [];
  const uses: SecretUse[] = [];
  const seen = new Set<string>();
  for (const pair of raw) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string')
      throw invalid('http.request headers: each header is a [name, value] pair of strings.');
    const [name, value] = pair as [string, string];
    if (!HEADER_NAME.test(name)) throw invalid('http.request headers: a header name is not a lower-case token.');
    if (FORBIDDEN_HEADERS.has(name) || FORBIDDEN_HEADER_PREFIXES.some((p) => name.startsWith(p)))
      throw invalid(`http.request headers: "${name}" is set by the browser and cannot be sent.`);
    if (seen.has(name)) throw invalid(`http.request headers: "${name}" is given twice.`);
    seen.add(name);
    const probe = parsePlaceholders(value)
      .map((seg) => ('secret' in seg ? 'X' : seg.text))
      .join('');
    if (value.length > HTTP_HEADER_VALUE_MAX || !HEADER_VALUE.test(probe))
      throw invalid(`http.request headers: the value of "${name}" is not a valid header value.`);
    for (const secret of placeholderNames(value)) uses.push({ secret, in: 'header', header: name });
    headers.push([name, value]);
  }
  return { headers, uses };
}

function parseBody(raw: unknown, method: HttpMethod): { body: HttpRequestIntent['body']; uses: SecretUse[] } {
  if (raw === undefined) return { body: null, uses: [] };
  if (method === 'GET' || method === 'HEAD') throw invalid(`http.request: a ${method} request has no body.`);
  if (!isPlainObject(raw)) throw invalid('http.request body must be { text } or { base64 }.');
  if ('text' in raw) {
    onlyKeys(raw, ['text'], 'http.request body');
    if (typeof raw.text !== 'string' || new TextEncoder().encode(raw.text).length > HTTP_BODY_MAX)
      throw invalid(`http.request body text must be a string of at most ${HTTP_BODY_MAX} bytes.`);
    if (!isDisplaySafe(raw.text, true)) throw invalid('http.request body text holds hidden characters.');
    return {
      body: { text: raw.text },
      uses: placeholderNames(raw.text).map((secret) => ({ secret, in: 'body' as const })),
    };
  }
  onlyKeys(raw, ['base64'], 'http.request body');
  let bytes: Uint8Array;
  try {
    if (typeof raw.base64 !== 'string') throw new TypeError();
    bytes = fromBase64(raw.base64);
  } catch {
    throw invalid('http.request body base64 is not base64.');
  }
  if (bytes.length > HTTP_BODY_MAX) throw invalid(`http.request body must be at most ${HTTP_BODY_MAX} bytes.`);
  return { body: { base64: raw.base64 }, uses: [] };
}

/**
 * Checks an `http.request` payload (the hub at the door, the device again before it shows the card) and says where
 * each secret goes.
 * @throws ProtocolError `protocol_invalid` naming the field, never a value.
 */
export function parseHttpRequest(payload: unknown): HttpRequestIntent {
  if (!isPlainObject(payload)) throw invalid('http.request payload must be an object.');
  onlyKeys(payload, ['method', 'url', 'headers', 'body', 'reason'], 'http.request');
  const method = payload.method;
  if (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method))
    throw invalid(`http.request method must be one of ${HTTP_METHODS.join(', ')}.`);
  const { url, host, query } = parseUrl(payload.url);
  const { headers, uses: headerUses } = parseHeaders(payload.headers);
  const { body, uses: bodyUses } = parseBody(payload.body, method as HttpMethod);
  const reason = payload.reason ?? null;
  if (
    reason !== null &&
    (typeof reason !== 'string' || reason.length > HTTP_REASON_MAX || !isDisplaySafe(reason, true))
  )
    throw invalid(`http.request reason must be text of at most ${HTTP_REASON_MAX} characters, nothing hidden.`);
  return {
    method: method as HttpMethod,
    url,
    host,
    headers,
    body,
    reason,
    secretUses: [...headerUses, ...query, ...bodyUses],
  };
}

/** The item names the request uses, each once. */
export const secretsUsed = (r: HttpRequestIntent): string[] => [...new Set(r.secretUses.map((u) => u.secret))];

const where = (u: SecretUse): string =>
  u.in === 'header'
    ? `the ${displayHeader(u.header)} header`
    : u.in === 'query'
      ? `the “${u.parameter}” query parameter`
      : 'the request body';

/** `authorization` → `Authorization`, as people read header names. */
const displayHeader = (name: string): string =>
  name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

/**
 * The card's sentence (issue 18): "research-bot wants to POST https://api.github.com/repos/o/r/pulls using your
 * “GitHub token” in the Authorization header". The URL is shown without its query when the query holds a secret's
 * placeholder, which the sentence then names.
 */
export function describeHttpRequest(agentName: string, r: HttpRequestIntent): string {
  const shownUrl = r.secretUses.some((u) => u.in === 'query') ? r.url.split('?', 1)[0]! : r.url;
  const base = `${agentName} wants to ${r.method} ${shownUrl}`;
  return r.secretUses.length === 0 ? base : `${base} using ${describeSecretUses(r.secretUses)}`;
}

/**
 * Where the secrets go, in words: "your “GitHub token” in the Authorization header" (the card's sentence, and a
 * standing rule's scope in the Agents tab).
 */
export function describeSecretUses(uses: readonly SecretUse[]): string {
  const bySecret = new Map<string, string[]>();
  for (const u of uses) {
    const places = bySecret.get(u.secret) ?? [];
    const place = where(u);
    if (!places.includes(place)) places.push(place);
    bySecret.set(u.secret, places);
  }
  const clauses = [...bySecret].map(([secret, places]) => `your “${secret}” in ${joinWords(places, ' and ')}`);
  // Clauses may hold "and" themselves: a comma before the last one keeps them apart.
  return joinWords(clauses, ', and ');
}

function joinWords(items: string[], last: string): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')}${last}${items.at(-1)}`;
}
