import type { MiddlewareHandler } from 'hono';
import { HubError } from './errors';
import type { HubEnv } from './middleware';

/**
 * The first checks every request passes, before CORS, routing or signature checks (issue 13 item 4). They stop
 * a browser being used against the hub by a page the person merely visits:
 *
 * - Host: DNS rebinding points an attacker's name at 127.0.0.1, so the browser treats the hub as same-origin with
 *   the attacker's page; the only trace is the Host header naming the attacker's host. The hub answers only at its
 *   public origin (`--public-origin`; the listening address when none is given), compared as the whole origin the
 *   client used: scheme and Host as seen on the socket, or as a trusted reverse proxy forwarded them
 *   (forwarded.ts). Anything else is `wrong_hub_origin`, which names both origins (issue 16): a client that used
 *   the bind address or another name would otherwise get through here and fail every signature with
 *   `auth_bad_signature`, since signatures bind the public origin. The bind address is never answered to as such.
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
  /** The hub's public origin: what clients were given, so the only origin requests may use. */
  origin: string;
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

/** Refuses another origin than the hub's, a foreign Origin and non-JSON bodies (see the module comment). */
export function requestGuard(options: RequestGuardOptions): MiddlewareHandler<HubEnv> {
  const own = new URL(options.origin);
  const origins = new Set([own.origin, ...(options.allowOrigins ?? [])]);
  return async (c, next) => {
    // The Host header must also name the host of the URL the server built: node-server builds it from Host for
    // origin-form requests but from the target for absolute-form ones ("GET http://x/ HTTP/1.1"), so a request
    // whose two disagree is steering one of them. In-process requests (app.request in tests) may have no Host.
    const host = c.req.header('host');
    if (host !== undefined && host.toLowerCase() !== new URL(c.req.url).host.toLowerCase())
      throw new HubError('host_invalid', `This hub answers at ${own.origin} only.`);
    const used = c.get('client').origin;
    if (used === null) throw new HubError('host_invalid', `This hub answers at ${own.origin} only.`);
    if (used !== own.origin) {
      // The exact words of issue 16; `hub_origin` lets a client write them itself (it shows its own words only).
      throw new HubError('wrong_hub_origin', `this hub is ${own.origin}; you used ${used}`, {
        fields: { hub_origin: own.origin },
      });
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
