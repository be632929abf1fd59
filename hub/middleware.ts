import type { Context, MiddlewareHandler } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import { toHubError, type HubError } from './errors';
import type { ClientView } from './forwarded';
import type { HubLogger } from './logger';
import { leavesBodyUnread, type IngressVariables } from './ingress';
import type { AuthVariables } from './auth';

/**
 * Hono environment shared by the hub's app, middleware and route modules. `client` is set by forwarded.ts's
 * clientView before anything else reads it; the ingress variables by hub/ingress.ts; `nonceDurable` by hub/auth.ts.
 */
export type HubEnv = {
  Variables: RequestIdVariables & { client: ClientView } & IngressVariables & Partial<AuthVariables>;
};

/**
 * Sent on every response, errors and 404s included. The hub serves JSON only: nothing may be framed, sniffed,
 * cached (responses carry per-user state) or leak a Referer.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

/** Longest path written to the log; longer ones are cut (a path is attacker-chosen). */
const MAX_LOGGED_PATH = 256;

/** Sets SECURITY_HEADERS and echoes the request id, after everything else has produced the response. */
export function responseHeaders(): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    await next();
    // An event stream also says `no-cache`, the directive reverse proxies and SSE clients look for (issue 16);
    // `no-store` stays: it carries per-user state.
    const stream = c.res.headers.get('content-type')?.startsWith('text/event-stream') === true;
    for (const [name, value] of Object.entries(SECURITY_HEADERS))
      c.header(name, stream && name === 'Cache-Control' ? 'no-cache, no-store' : value);
    c.header('X-Request-Id', c.get('requestId'));
  };
}

/**
 * One log line per request: method, path (no query: tokens and codes could ride there), status, duration, request
 * id and the client's address (the forwarded one only from a trusted proxy: forwarded.ts), so an operator of a
 * reachable hub can tell callers apart. Never headers (Authorization, signatures), never bodies.
 */
export function accessLog(logger: HubLogger): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const start = performance.now();
    await next();
    logger.info('request', {
      method: c.req.method,
      path: c.req.path.slice(0, MAX_LOGGED_PATH),
      status: c.res.status,
      duration_ms: Math.round((performance.now() - start) * 100) / 100,
      request_id: c.get('requestId'),
      client: c.get('client')?.address ?? null,
    });
  };
}

/** The JSON error body every failure gets. */
export function errorResponse(c: Context<HubEnv>, err: HubError): Response {
  if (leavesBodyUnread(c)) c.header('Connection', 'close');
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
  // Every 429 says when to come back (issue 16: the SDK waits that long instead of guessing); the limiters set
  // their own, this is the floor for any other refusal.
  if (err.status === 429 && !('Retry-After' in err.headers)) c.header('Retry-After', '1');
  return c.json(
    { error: { ...err.fields, code: err.code, message: err.message, request_id: c.get('requestId') ?? null } },
    err.status,
  );
}

/**
 * For `app.onError`: maps the error (toHubError) and logs failures the client did not cause. The log gets the
 * error's class name and the location it was thrown from, not its message, which may quote request data.
 */
export function errorHandler(logger: HubLogger) {
  return (err: Error, c: Context<HubEnv>): Response => {
    const hubErr = toHubError(err);
    if (hubErr.status >= 500) {
      const cause = hubErr.cause ?? err;
      logger.error('request_failed', {
        request_id: c.get('requestId') ?? null,
        code: hubErr.code,
        error: cause instanceof Error ? cause.name : typeof cause,
        at: thrownAt(cause),
      });
    }
    return errorResponse(c, hubErr);
  };
}

/** `file:line:col` of the first stack frame, without the message line. */
function thrownAt(err: unknown): string | null {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return null;
  const frame = err.stack.split('\n').find((line) => /^\s+at /.test(line));
  const m = frame && /\(?((?:file:\/\/|\/)[^()\s]+:\d+:\d+)\)?\s*$/.exec(frame);
  return m ? m[1]!.replace(/^file:\/\//, '') : null;
}
