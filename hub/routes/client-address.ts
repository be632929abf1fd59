import type { Context } from 'hono';
import { HubError } from '../errors';
import type { HubEnv } from '../middleware';
import type { Limiter } from '../rate-limit';

/**
 * The client's address for per-address limits: the TCP peer, or the address a trusted reverse proxy forwarded
 * (`--trusted-proxy`; hub/forwarded.ts), never a forwarded header from anyone else. `in-process` for app.request.
 */
export function clientAddress(c: Context<HubEnv>): string {
  return c.get('client').address;
}

/** Takes a token for `key` or throws 429 with Retry-After. */
export async function enforceLimit(limiter: Limiter, key: string): Promise<void> {
  const decision = await limiter.consume(key);
  if (!decision.allowed) {
    throw new HubError('rate_limited', undefined, { headers: { 'Retry-After': String(decision.retryAfterSeconds) } });
  }
}
