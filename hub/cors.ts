import type { MiddlewareHandler } from 'hono';
import { isOrigin } from '../lib/protocol/fields';
import type { HubEnv } from './middleware';

/**
 * What a page's signed request sends: the body type, the ck-* signature headers, an optional request id, and
 * Last-Event-ID when an event stream resumes (docs/protocol.md §9).
 */
const ALLOW_HEADERS =
  'content-type, accept, ck-key-id, ck-role, ck-timestamp, ck-nonce, ck-signature, x-request-id, last-event-id';
const ALLOW_METHODS = 'GET, POST, PUT, DELETE';

/**
 * CORS for an explicit list of page origins (the web vault: `clawkeep hub --allow-origin http://127.0.0.1:5178`),
 * never `*`. Requests are signed, so CORS is not what protects them; it only decides which pages may read the
 * answers. Origins not on the list get no CORS headers at all (their browser blocks the response), and no
 * credentials are ever allowed: the hub uses no cookies.
 */
export function cors(allowOrigins: readonly string[]): MiddlewareHandler<HubEnv> {
  for (const o of allowOrigins)
    if (!isOrigin(o)) throw new TypeError(`cors: "${String(o)}" is not an https origin (or http on loopback)`);
  const allowed = new Set(allowOrigins);
  return async (c, next) => {
    const origin = c.req.header('origin');
    const ok = origin !== undefined && allowed.has(origin);
    if (ok && c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      return c.body(null, 204, {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': ALLOW_METHODS,
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': '600',
        Vary: 'Origin',
      });
    }
    await next();
    if (ok) {
      c.res.headers.set('Access-Control-Allow-Origin', origin);
      c.res.headers.set('Access-Control-Expose-Headers', 'x-request-id, retry-after');
      c.res.headers.append('Vary', 'Origin');
    }
  };
}
