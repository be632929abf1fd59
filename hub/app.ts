import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { useNodeEd25519 } from './ed25519-node';
import { HubError } from './errors';
import { admissionFor, IntentAdmission, type AdmissionLimits } from './intent-admission';
import { LoopTurns } from './loop-turns';
import { generateHubIdentity, type HubIdentity } from './identity';
import type { HubLogger } from './logger';
import type { HubDeps } from './deps';
import { accessLog, errorHandler, errorResponse, responseHeaders, type HubEnv } from './middleware';
import { ingress } from './ingress';
import { cors } from './cors';
import { clientView, type ProxyTrust } from './forwarded';
import { requestGuard } from './request-guard';
import { mountRoutes } from './routes';
import { EVENTS_MAX_LIFETIME_MS } from './routes/events';
import type { HubStore } from './store/port';
import { HUB_VERSION } from './version';
import { limiterFor, type RateLimit } from './rate-limit';

/**
 * Every signed request's budget, per verified signing key (issue 13 item 12): 240 at once, refilled at 4 per second.
 * Keyed on the key, not the address, because every local caller shares 127.0.0.1: one noisy agent must not use up
 * another's budget. Routes with tighter limits of their own (intents, claims, pairing) apply them as well.
 */
export const SIGNED_REQUEST_LIMIT: RateLimit = { burst: 240, sustained: 240, perSeconds: 60 };

export interface HubAppOptions {
  store: HubStore;
  now?: () => number;
  logger: HubLogger;
  origin: string;
  /** Page origins whose requests get CORS headers (the web vault); none by default. */
  allowOrigins?: readonly string[];
  /** The hub's identity key; startHub loads it from the data directory. Absent: a fresh random one (in-memory hubs). */
  identity?: HubIdentity;
  /**
   * Reverse proxies whose forwarded client address, scheme and host are believed (hub/forwarded.ts); nobody's
   * when absent.
   */
  proxyTrust?: ProxyTrust;
  /** Budget of signed requests per signing key; SIGNED_REQUEST_LIMIT by default. */
  signedRequestLimit?: RateLimit;
  /** Event stream lifetime; EVENTS_MAX_LIFETIME_MS (15 minutes) by default. Tests shorten it. */
  eventStreamLifetimeMs?: number;
  /** Requests that start per turn of the event loop (hub/loop-turns.ts; tests shrink it). */
  requestsPerTurn?: number;
  /** How many intent creations run at once and how many may wait (hub/intent-admission.ts; tests shrink it). */
  intentAdmission?: AdmissionLimits;
}

/**
 * Builds the hub's HTTP app (no listening: see server.ts). Middleware order matters: the request id comes first
 * so everything after can name it; headers and the access log wrap everything so 404s, 413s and errors get them;
 * ingress (body caps, path form) comes next; the request guard (Host, Origin, Content-Type) runs before CORS and
 * every route.
 */
/**
 * Requests that start per turn of the event loop. At a few milliseconds each on SQLite that keeps a turn well under
 * 100 ms, so the listening socket (one connection per turn since libuv 1.45) still accepts tens a second.
 */
export const REQUESTS_PER_TURN = 16;

export function createHubApp(options: HubAppOptions): Hono<HubEnv> {
  const origin = new URL(options.origin).origin;
  if (origin !== options.origin)
    throw new TypeError(`createHubApp: origin must be a bare origin, got "${options.origin}"`);
  useNodeEd25519(); // every signature the hub checks, at OpenSSL's speed (hub/ed25519-node.ts)
  const now = options.now ?? Date.now;
  const deps: HubDeps = {
    store: options.store,
    now,
    logger: options.logger,
    origin,
    version: HUB_VERSION,
    identity: options.identity ?? generateHubIdentity(),
    // In memory (bounded: RateLimiter forgets the least recently seen keys beyond its cap), or in the database when
    // several hub processes share it.
    signedLimiter: limiterFor(options.store, 'signed', options.signedRequestLimit ?? SIGNED_REQUEST_LIMIT, now),
    eventStreamLifetimeMs: options.eventStreamLifetimeMs ?? EVENTS_MAX_LIFETIME_MS,
    intentAdmission: new IntentAdmission(options.intentAdmission ?? admissionFor(options.store.engine)),
  };

  const app = new Hono<HubEnv>();
  // A client may send its own X-Request-Id to correlate logs; hono accepts only [A-Za-z0-9_=-], so it cannot
  // inject into a log line. 64 characters is plenty for a UUID or similar.
  app.use(requestId({ limitLength: 64 }));
  // Who is calling (address, origin used), before anything that logs, limits or checks it.
  app.use(clientView(options.proxyTrust));
  app.use(responseHeaders());
  app.use(accessLog(deps.logger));
  // A bounded number of requests start per turn of the event loop, so a backlog never stops the hub accepting
  // connections (hub/loop-turns.ts). After the access log, so a request's wait for its turn is in its duration.
  const turns = new LoopTurns(options.requestsPerTurn ?? REQUESTS_PER_TURN);
  app.use(async (c, next) => {
    await turns.take(c.req.method === 'POST' && c.req.path === '/v1/intents');
    await next();
  });
  // A signed request's nonce is recorded at once and committed with the request's own writes (one group commit,
  // hub/store/commit-batch.ts); whatever the answer is, it leaves only once that commit is durable, so a replay of
  // an answered request stays refused after a crash. A failed commit turns the answer into that error.
  app.use(async (c, next) => {
    await next();
    const durable = c.get('nonceDurable');
    if (durable) await durable;
  });
  // Before anything looks further: body caps by Content-Length (nothing is read here), path normal form, and the
  // body budgets that readBody (the only way a route reads a body) draws on.
  app.use(ingress({ logger: deps.logger }));
  // Before CORS: a preflight from a foreign origin is refused like any other request of that page.
  app.use(requestGuard({ origin, allowOrigins: options.allowOrigins }));
  if (options.allowOrigins?.length) app.use(cors(options.allowOrigins));

  mountRoutes(app, deps);

  app.notFound((c) => errorResponse(c, new HubError('not_found', 'No such endpoint.')));
  app.onError(errorHandler(deps.logger));
  return app;
}
