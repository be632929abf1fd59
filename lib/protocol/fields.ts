import { invalid } from './errors';

/**
 * Grammar of the small fields every protocol statement shares (docs/protocol.md §Fields). One place, so the
 * signer, the verifier and the wire schemas agree on what is valid.
 */

/** Opaque ids (agent_id, intent_id, installation_id, key_id, idempotency_key): 1..64 of [A-Za-z0-9_-], starting alphanumeric. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Lowercase hex SHA-256, the only way hashes travel. */
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;

export const isId = (v: unknown): v is string => typeof v === 'string' && ID_PATTERN.test(v);
export const isSha256Hex = (v: unknown): v is string => typeof v === 'string' && SHA256_HEX_PATTERN.test(v);
/** Epoch milliseconds or seconds as a non-negative safe integer. */
export const isEpoch = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A hub origin exactly as the WHATWG URL serialises it: `https://host[:port]`, lowercase, no path, no trailing
 * slash. Plain `http:` only for loopback, so a development hub works but a signed statement never names a
 * cleartext remote hub. The origin is inside every signature, which stops replay against another hub.
 */
export function isOrigin(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > 255) return false;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return false;
  }
  if (url.origin !== v) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

/** Throws `protocol_invalid` naming `what` unless `ok`. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw invalid(`${what} is invalid.`);
}

/**
 * `value` as a plain object with exactly `keys` (any order), else `protocol_invalid` naming `what`. Every signed
 * statement's validator starts here: an extra field would be signed but never checked, a missing one read as undefined.
 */
export function exactFields(value: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  check(value !== null && typeof value === 'object' && !Array.isArray(value), what);
  const got = Object.keys(value as object).sort();
  const want = [...keys].sort();
  check(got.length === want.length && want.every((k, i) => k === got[i]), `${what} fields`);
  return value as Record<string, unknown>;
}
