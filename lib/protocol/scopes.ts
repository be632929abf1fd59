import { KIND_PATTERN } from './intent-hash';
import { isHttpHost, parseHttpRequest } from './http-request';
import { invalid } from './errors';
import { isItemName } from './item-name';

export { isItemName, MAX_ITEM_NAME_LENGTH } from './item-name';

/**
 * Scope grammar (docs/protocol.md §Scopes), ABNF (RFC 5234):
 *
 *   scope        = secret-scope / action-scope / http-scope
 *   secret-scope = "secret:read:" item-name
 *   action-scope = "action:" kind
 *   http-scope   = "http:" host                ; issue 18: http.request calls to this host (the secret's own host
 *                                              ; list must allow it too)
 *   host         = as http-request.ts HOST_PATTERN: a lower-case DNS name or IPv4 address, ":" port when not 443
 *   item-name    = 1*128 item-char        ; the vault item's name, taken literally to the end of the scope
 *   item-char    = any Unicode scalar value except controls and invisible characters (display-text.ts: Cc, Cf, Cs,
 *                  Co, Zl, Zp and invisible fillers)
 *   kind         = segment 1*("." segment) ; see KIND_PATTERN, at most 64 characters
 *   segment      = %x61-7A *(%x61-7A / DIGIT / "_")
 *
 * No wildcards in v1: each grant names one item or one kind, so the claim screen shows exactly what is given.
 * Item names match by exact code-unit equality (no case folding, no Unicode normalisation), because that is how
 * the vault looks them up. Granted scope lists are sorted (UTF-16 code units) and unique, so one grant has one
 * canonical encoding inside the signed claim.
 */
export const MAX_SCOPES = 64;

export type Scope = `secret:read:${string}` | `action:${string}` | `http:${string}`;
export type ParsedScope =
  { type: 'secret'; item: string } | { type: 'action'; kind: string } | { type: 'http'; host: string };

const SECRET_PREFIX = 'secret:read:';
const ACTION_PREFIX = 'action:';
const HTTP_PREFIX = 'http:';

/** @returns the parsed scope, or undefined if `scope` is not in the grammar. */
export function parseScope(scope: unknown): ParsedScope | undefined {
  if (typeof scope !== 'string') return undefined;
  if (scope.startsWith(SECRET_PREFIX)) {
    const item = scope.slice(SECRET_PREFIX.length);
    return isItemName(item) ? { type: 'secret', item } : undefined;
  }
  if (scope.startsWith(ACTION_PREFIX)) {
    const kind = scope.slice(ACTION_PREFIX.length);
    return KIND_PATTERN.test(kind) ? { type: 'action', kind } : undefined;
  }
  if (scope.startsWith(HTTP_PREFIX)) {
    const host = scope.slice(HTTP_PREFIX.length);
    return isHttpHost(host) ? { type: 'http', host } : undefined;
  }
  return undefined;
}

export const isScope = (v: unknown): v is Scope => parseScope(v) !== undefined;

export const secretScope = (item: string): Scope => `secret:read:${item}`;
export const actionScope = (kind: string): Scope => `action:${kind}`;
export const httpScope = (host: string): Scope => `http:${host}`;

/**
 * The scope an intent needs: `secret:read:<payload.item>` for `secret.request`, `http:<host>` for `http.request`,
 * `action:<kind>` for the rest.
 * @throws ProtocolError `protocol_invalid` if a secret request names no valid item or an http request no valid URL.
 */
export function requiredScope(kind: string, payload: unknown): Scope {
  if (kind === 'http.request') return httpScope(parseHttpRequest(payload).host);
  if (kind === 'secret.request') {
    const item = (payload as { item?: unknown } | null)?.item;
    if (!isItemName(item)) throw invalid('secret.request payload.item is invalid.');
    return secretScope(item);
  }
  if (!KIND_PATTERN.test(kind)) throw invalid('Intent kind is invalid.');
  return actionScope(kind);
}

/** Sorted, duplicate-free copy: the canonical form of a granted scope list. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)].sort();
}

/** True when `scopes` is a valid, sorted, duplicate-free list of at most MAX_SCOPES scopes. */
export function isCanonicalScopeList(scopes: unknown): scopes is Scope[] {
  if (!Array.isArray(scopes) || scopes.length > MAX_SCOPES) return false;
  for (let i = 0; i < scopes.length; i++) {
    if (!isScope(scopes[i])) return false;
    if (i > 0 && !(scopes[i - 1] < scopes[i])) return false;
  }
  return true;
}
