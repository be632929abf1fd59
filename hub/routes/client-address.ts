import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { HubError } from '../errors';
import type { HubEnv } from '../middleware';
import type { RateLimiter } from '../rate-limit';

/** The TCP peer address (never a forwarded header: the hub listens on loopback and trusts no proxy). */
export function clientAddress(c: Context<HubEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // In-process requests (app.request in tests) have no socket.
    return 'in-process';
  }
}

/** Takes a token for `key` or throws 429 with Retry-After. */
export function enforceLimit(limiter: RateLimiter, key: string): void {
  const decision = limiter.consume(key);
  if (!decision.allowed) {
    throw new HubError('rate_limited', undefined, { headers: { 'Retry-After': String(decision.retryAfterSeconds) } });
  }
}
