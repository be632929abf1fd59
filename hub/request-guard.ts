import type { MiddlewareHandler } from 'hono';
import { HubError } from './errors';
import type { HubEnv } from './middleware';

/**
 * The first checks every request passes, before CORS, routing or signature checks (issue 13 item 4). They stop
 * a browser being used against the hub by a page the person merely visits:
 *
 * - Host: DNS rebinding points an attacker's name at 127.0.0.1, so the browser treats the hub as same-origin with
 *   the attacker's page; the only trace is the Host header naming the attacker's host. The hub answers only to
 *   the host of its own origin (the public origin when a reverse proxy stands in front).
 * - Origin: a page on another site can send "simple" requests (a text/plain POST needs no preflight) and the
 *   browser delivers them, only hiding the answer. A request whose Origin is neither this hub, a page on the
 *   allow-list (`--allow-origin`, the web vault) nor a browser extension is refused outright.
 * - Content-Type: every body the API takes is JSON; refusing anything else means a cross-site form or text/plain
 *   POST never reaches a route, even from a browser that sends no Origin.
 *
 * Signed requests are authenticated regardless; these checks protect the unauthenticated routes (agent
 * registration, pairing creation, enrolment) and keep a page from spending the hub's rate limits.
 */
export interface RequestGuardOptions {
  /** The hub's origin: what clients were given, so its host is the Host they send. */
  origin: string;
  /**
   * More `host[:port]` values answered to: the listening address when a reverse proxy that rewrites Host to its
   * upstream (nginx's default) stands in front. A page cannot make a browser send these unless the page is served
   * from that very address, which is the hub itself (it serves JSON only).
   */
  extraHosts?: readonly string[];
  /** Page origins allowed to call the hub (the same list CORS answers). */
  allowOrigins?: readonly string[];
}

/**
 * Browser extensions' origins. A web page cannot send these (Origin is set by the browser, never by script), and
 * the extension's background fetches carry them in Chromium (`chrome-extension://<32 letters a-p>`) and Firefox
 * (`moz-extension://<uuid>`). Accepting any extension id is deliberate: the id differs per install (unpacked,
 * store, Firefox's per-profile uuid), and what an extension does is authenticated by its device signature anyway;
 * another installed extension is as privileged as a local process, which the hub does not keep out either.
 */
const EXTENSION_ORIGIN =
  /^(chrome-extension:\/\/[a-p]{32}|moz-extension:\/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Methods whose requests may carry a body. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `application/json`, optionally with `charset=utf-8` (any case, optional quotes), and nothing else. */
const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Whether a request carries (or announces) a body. */
function hasBody(headers: Headers): boolean {
  const length = headers.get('content-length');
  return headers.has('transfer-encoding') || (length !== null && length.trim() !== '0');
}

/** Refuses a foreign Host, a foreign Origin and non-JSON bodies (see the module comment). */
export function requestGuard(options: RequestGuardOptions): MiddlewareHandler<HubEnv> {
  const own = new URL(options.origin);
  const hosts = new Set([own.host.toLowerCase(), ...(options.extraHosts ?? []).map((h) => h.toLowerCase())]);
  const origins = new Set([own.origin, ...(options.allowOrigins ?? [])]);
  return async (c, next) => {
    // Both the Host header and the URL the server built: node-server builds the URL from Host for origin-form
    // requests but from the target for absolute-form ones ("GET http://x/ HTTP/1.1"), so either alone can be
    // steered. In-process requests (app.request in tests) have a URL and usually no Host header.
    const host = c.req.header('host');
    if ((host !== undefined && !hosts.has(host.toLowerCase())) || !hosts.has(new URL(c.req.url).host.toLowerCase())) {
      throw new HubError('host_invalid', `This hub answers at ${own.origin} only.`);
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.has(origin) && !EXTENSION_ORIGIN.test(origin)) {
      throw new HubError('origin_forbidden', 'Requests from this web page are not allowed.');
    }
    if (BODY_METHODS.has(c.req.method)) {
      const type = c.req.header('content-type');
      if (type !== undefined ? !JSON_TYPE.test(type.trim()) : hasBody(c.req.raw.headers)) {
        throw new HubError('content_type_unsupported', 'Request bodies must be application/json.');
      }
    }
    await next();
  };
}
