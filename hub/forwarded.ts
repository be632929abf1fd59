import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { MiddlewareHandler } from 'hono';
import type { HubEnv } from './middleware';

/**
 * Who is calling, as the hub may believe it (issue 16, "Reachable"): the client's address (per-address rate limits)
 * and the origin the client used (request-guard.ts compares it with the hub's public origin).
 *
 * A reverse proxy in front of the hub terminates the client's connection, so the TCP peer is the proxy and the
 * client's address, scheme and host travel in headers (`X-Forwarded-For` / `-Proto` / `-Host`, or RFC 7239
 * `Forwarded`). Anyone can send those headers, so they are read only when the TCP peer is one of the addresses the
 * operator named with `--trusted-proxy`, and from nowhere else. Only one header family is read
 * (`--proxy-headers`): a proxy that sets one family usually passes the other through untouched, so reading both
 * would let a client choose its own address.
 */
export type ProxyHeaders = 'x-forwarded' | 'forwarded';

export interface ProxyTrust {
  /** TCP peer addresses whose forwarded headers are honoured (normalised by normalizeAddress). */
  proxies: ReadonlySet<string>;
  headers: ProxyHeaders;
}

/** What the hub knows about the caller. */
export interface ClientView {
  /** The client's IP address; `in-process` for app.request in tests (no socket). */
  address: string;
  /**
   * `scheme://host[:port]` the client used, lowercased, or null when the request names no usable host (no Host
   * header, or one that is not a host name or IP literal).
   */
  origin: string | null;
  /** Whether forwarded headers were honoured for this request (its peer is a trusted proxy). */
  viaProxy: boolean;
}

/** Forwarded list entries looked at, from the right: a longer chain is not one any sane proxy set up produces. */
const MAX_HOPS = 32;
/** A Host value: a DNS name or IPv4 literal, or a bracketed IPv6 literal, and an optional port (RFC 9110 §7.2). */
const HOST_VALUE = /^(\[[0-9a-f:.]{2,45}\]|[a-z0-9.-]{1,253})(:\d{1,5})?$/i;

/** `::ffff:10.0.0.1` → `10.0.0.1`; IPv6 in its canonical compressed lowercase form; null if not an IP address. */
export function normalizeAddress(address: string): string | null {
  const bare = address.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped) return isIP(mapped[1]!) === 4 ? mapped[1]! : null;
  const kind = isIP(bare);
  if (kind === 4) return bare;
  if (kind === 6) return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  return null;
}

/** An address from a forwarded list: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:4711` or a bare IPv6 address. */
function forwardedAddress(value: string): string | null {
  const v = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(v);
  if (bracketed) return normalizeAddress(bracketed[1]!);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(v);
  return normalizeAddress(withPort ? withPort[1]! : v);
}

/** Splits on `sep` outside double quotes (RFC 7239 §4 values may be quoted strings). */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') quoted = !quoted;
    if (ch === '\\' && quoted && i + 1 < text.length) {
      current += ch + text[++i]!;
      continue;
    }
    if (ch === sep && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

interface ForwardedHop {
  for?: string;
  proto?: string;
  host?: string;
}

/** RFC 7239 §4: `Forwarded: for=192.0.2.60;proto=https;host=hub.example.com, for="[2001:db8::1]"`. */
export function parseForwarded(header: string): ForwardedHop[] {
  return splitOutsideQuotes(header, ',').map((element) => {
    const hop: ForwardedHop = {};
    for (const pair of splitOutsideQuotes(element, ';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim().toLowerCase();
      let value = pair.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
        value = value.slice(1, -1).replace(/\\(.)/g, '$1');
      if (name === 'for' || name === 'proto' || name === 'host') hop[name] = value;
    }
    return hop;
  });
}

/** The last non-empty entry of a comma-separated header: the one the proxy next to the hub wrote. */
function lastEntry(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const entries = header
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  return entries.at(-1);
}

/**
 * The client's address from a forwarded chain: walking from the right (the entry the nearest proxy appended),
 * trusted proxies are skipped and the first other address is the client. Entries further left were written by
 * whoever sent the request to the first proxy, i.e. possibly the client itself, so they count only when every
 * entry to their right is a trusted proxy. A malformed entry where the client should be gives the peer: limits
 * then apply to the proxy as a whole, tighter rather than looser.
 */
export function clientFromChain(chain: readonly string[], peer: string, trusted: ReadonlySet<string>): string {
  const hops = chain.slice(-MAX_HOPS);
  for (let i = hops.length - 1; i >= 0; i--) {
    const address = forwardedAddress(hops[i]!);
    if (address === null) return peer;
    if (!trusted.has(address)) return address;
  }
  const first = hops.length > 0 ? forwardedAddress(hops[0]!) : null;
  return first ?? peer;
}

/** `scheme://host` lowercased, or null unless the scheme is http(s) and the host a plain host[:port]. */
function originOf(scheme: string | undefined, host: string | undefined): string | null {
  if (scheme === undefined || host === undefined) return null;
  const s = scheme.trim().toLowerCase();
  const h = host.trim().toLowerCase();
  if ((s !== 'http' && s !== 'https') || !HOST_VALUE.test(h)) return null;
  try {
    // Through URL so default ports drop out (https://hub.example.com:443 is https://hub.example.com).
    return new URL(`${s}://${h}`).origin;
  } catch {
    return null;
  }
}

/** The Node request behind a hono context (absent for in-process app.request). */
function incomingOf(env: unknown): IncomingMessage | undefined {
  const bindings = env as { incoming?: IncomingMessage; server?: { incoming?: IncomingMessage } } | undefined;
  return bindings?.incoming ?? bindings?.server?.incoming;
}

/**
 * Computes the ClientView of one request: from the socket and Host header, plus the forwarded headers of `trust`'s
 * family when the peer is a trusted proxy. In-process requests (tests) take the origin from the URL.
 */
export function viewClient(
  incoming: IncomingMessage | undefined,
  requestUrl: string,
  trust: ProxyTrust | undefined,
): ClientView {
  if (!incoming) return { address: 'in-process', origin: new URL(requestUrl).origin, viaProxy: false };
  const socket = incoming.socket as TLSSocket | undefined;
  const peer = normalizeAddress(socket?.remoteAddress ?? '') ?? 'unknown';
  const directScheme = socket?.encrypted ? 'https' : 'http';
  const host = incoming.headers.host;
  if (!trust || !trust.proxies.has(peer))
    return { address: peer, origin: originOf(directScheme, host), viaProxy: false };
  const header = (name: string): string | undefined => {
    const v = incoming.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  if (trust.headers === 'forwarded') {
    const hops = parseForwarded(header('forwarded') ?? '').filter((h) => Object.keys(h).length > 0);
    const nearest = hops.at(-1);
    const chain = hops.flatMap((h) => (h.for === undefined ? [] : [h.for]));
    return {
      address: clientFromChain(chain, peer, trust.proxies),
      origin: originOf(nearest?.proto ?? directScheme, nearest?.host ?? host),
      viaProxy: true,
    };
  }
  const chain = (header('x-forwarded-for') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  return {
    address: clientFromChain(chain, peer, trust.proxies),
    origin: originOf(
      lastEntry(header('x-forwarded-proto')) ?? directScheme,
      lastEntry(header('x-forwarded-host')) ?? host,
    ),
    viaProxy: true,
  };
}

/** Sets `c.var.client` (ClientView) for everything after it: the request guard, rate limits, the access log. */
export function clientView(trust: ProxyTrust | undefined): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    c.set('client', viewClient(incomingOf(c.env), c.req.url, trust));
    await next();
  };
}
