import { ClawkeepError } from '../errors';
import { isHttpHost } from '../protocol/http-request';
import { isReservedTag } from '../storage/vault-tags';
import type { SecretFields } from './types';

/**
 * A secret's own scope for `http.request` (issue 18: "each secret may list the hosts it may be sent to (set in the
 * item; https only); a request naming another host is refused before the person is asked"). The list is written by
 * the person in the secret editor and stored encrypted with the item; the approval code asks `secretAllowsHost`
 * before a card is ever shown.
 *
 * Hosts are stored exactly as `isHttpHost` (lib/protocol/http-request.ts) names them, which is what the WHATWG URL
 * parser gives as `url.host` for the request's https URL, so checking a request is a plain string comparison.
 */

/** At most this many hosts per secret: a key for one API rarely needs more, and a card can name them all. */
export const MAX_ALLOWED_HOSTS = 32;
/** Entries read before giving up, duplicates and blanks included: bounds the work one item can cost to decode. */
const MAX_ENTRIES_READ = MAX_ALLOWED_HOSTS * 4;
/** A 253-character DNS name, a port and an `https://` prefix with a trailing slash fit with room to spare. */
const MAX_ENTRY = 300;
/** What a message quotes of an entry, at most. */
const MAX_QUOTED = 80;

function invalid(message: string): ClawkeepError {
  return new ClawkeepError('item_invalid', message);
}

/**
 * The entry as an error message may quote it: only the scheme and authority part (a path or query a person pasted
 * may hold a token), never anything with a user name or password (refused before quoting), and shortened.
 */
function quoted(entry: string): string {
  const cut = /^([a-z][a-z0-9+.-]*:\/\/)?[^/?#]*/.exec(entry)?.[0] ?? '';
  // ASCII only: a message never carries a control or direction-changing character back to the page.
  const printable = cut.replace(/[^\x20-\x7e]/g, '?');
  const short = printable.length > MAX_QUOTED ? `${printable.slice(0, MAX_QUOTED)}…` : printable;
  return `"${short}${cut.length < entry.length ? '/…' : ''}"`;
}

/** The URL parser's host for `https://<authority>`, or null when it refuses it. */
function parsedHost(authority: string): string | null {
  try {
    return new URL(`https://${authority}/`).host;
  } catch {
    return null;
  }
}

/**
 * One entry as the person typed it → the host to store, or null for a blank entry. `https://api.github.com/` and
 * `API.github.com:443` both give `api.github.com`; an internationalised name gives its A-label (what a request's URL
 * holds). Anything else the URL parser would rewrite (`127.1`, `%61pi.github.com`) is refused with the spelling to use,
 * so the stored host is the one the person read.
 */
function hostFromEntry(raw: unknown, position: number): string | null {
  if (typeof raw !== 'string') throw invalid('Allowed hosts must be text.');
  const entry = raw.trim().toLowerCase();
  if (entry === '') return null;
  if (entry.length > MAX_ENTRY) throw invalid(`Allowed host ${position} is too long to be a host name.`);
  // Userinfo is refused first and named by position only: it may be a password pasted with the URL.
  if (entry.includes('@')) throw invalid(`Allowed host ${position} must not hold a user name or password.`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(entry);
  if (scheme && scheme[1] !== 'https') {
    const bare = entry.slice(scheme[0].length).replace(/[/?#].*$/s, '');
    throw invalid(
      `Allowed host ${quoted(entry)} is not https: a secret is only ever sent over https` +
        (bare ? ` (to allow the https address, write ${quoted(bare)}).` : '.'),
    );
  }
  const rest = scheme ? entry.slice(scheme[0].length) : entry;
  // `https://host/` is how a browser shows an address; a path, query or fragment would suggest a narrower scope than
  // a host list gives (the rule is per host), so it is refused rather than dropped.
  const authority = rest.replace(/\/$/, '');
  if (/[/?#\\]/.test(authority))
    throw invalid(`Allowed host ${quoted(entry)} must be a host alone, without a path, query or fragment.`);
  if (/\s/.test(authority)) throw invalid(`Allowed host ${quoted(entry)} holds a space.`);
  const host = parsedHost(authority);
  if (host === null || !isHttpHost(host))
    throw invalid(
      `Allowed host ${quoted(entry)} is not a host name: write a DNS name such as api.github.com or an IPv4 address, ` +
        'with a :port only when it is not 443.',
    );
  // Only ASCII can be compared: a Unicode name legitimately becomes its A-label, and ":443" is https's own port.
  const written = authority.replace(/:443$/, '');
  if (/^[\x21-\x7e]*$/.test(written) && host !== written)
    throw invalid(`Allowed host ${quoted(entry)} is not written in full: write ${host}.`);
  return host;
}

/**
 * Validates and canonicalises a secret's allowed hosts (item-codec.ts calls it for every save and every read): absent
 * → `[]`; each entry trimmed, lower-cased and checked as above; blanks dropped; duplicates kept once, in the order
 * first written; at most `MAX_ALLOWED_HOSTS`. Idempotent: its output passes through unchanged.
 *
 * @throws ClawkeepError `item_invalid`, with a message fit to show that names the entry (never a path, query or
 *   user name it held).
 */
export function normalizeAllowedHosts(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.length > MAX_ENTRIES_READ)
    throw invalid(`Allowed hosts must be a list of at most ${MAX_ALLOWED_HOSTS} hosts.`);
  const hosts: string[] = [];
  raw.forEach((entry, i) => {
    const host = hostFromEntry(entry, i + 1);
    if (host !== null && !hosts.includes(host)) hosts.push(host);
  });
  if (hosts.length > MAX_ALLOWED_HOSTS) throw invalid(`Allowed hosts: at most ${MAX_ALLOWED_HOSTS} hosts.`);
  return hosts;
}

/**
 * True when an `http.request` may carry this secret to `host` (the request's `HttpRequestIntent.host`): the host is in
 * the secret's own list, exactly. Fails closed: an empty list allows nothing, a host not in canonical form matches
 * nothing, and one of Clawkeep's own records (a reserved `clawkeep:` tag, lib/storage/vault-tags.ts) is never sent,
 * whatever its list says.
 */
export function secretAllowsHost(fields: Pick<SecretFields, 'allowedHosts' | 'tags'>, host: string): boolean {
  if (!isHttpHost(host)) return false;
  if (fields.tags.some((t) => isReservedTag(t.toLowerCase()))) return false;
  return fields.allowedHosts.includes(host);
}
