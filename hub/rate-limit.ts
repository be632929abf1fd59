import type { HubStore } from './store/port';

/**
 * Burst + sustained rate limits as two token buckets per key: a request must find a token in both.
 * One hub process (SQLite): in memory, and a restart forgetting counters only ever loosens limits for a moment.
 * Several processes on one PostgreSQL: the buckets live in the database (SharedRateLimiter), so N processes do not
 * give a client N budgets (issue 16). The clock is injected so tests need no sleeping.
 */
export interface RateLimit {
  /** Requests allowed at once. */
  burst: number;
  /** Requests allowed per `perSeconds` over time. */
  sustained: number;
  perSeconds: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** What routes take: a limiter in memory, or one shared by every hub process on the database. */
export interface Limiter {
  consume(key: string): RateDecision | Promise<RateDecision>;
}

export class RateLimiter implements Limiter {
  private readonly buckets = new Map<string, { burst: Bucket; sustained: Bucket }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    /** Forget idle keys beyond this many, oldest first, so hostile key churn cannot grow memory without bound. */
    private readonly maxKeys = 10_000,
  ) {}

  private refill(bucket: Bucket, capacity: number, perMs: number, now: number): void {
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.updated) * perMs);
    bucket.updated = now;
  }

  /** Takes one token for `key`, or says how long to wait. */
  consume(key: string): RateDecision {
    const now = this.now();
    const { burst, sustained, perSeconds } = this.limit;
    let entry = this.buckets.get(key);
    if (!entry) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      entry = { burst: { tokens: burst, updated: now }, sustained: { tokens: sustained, updated: now } };
    }
    this.buckets.delete(key);
    this.buckets.set(key, entry); // most recently used last
    // The burst bucket refills in one sustained period; the sustained bucket at sustained/perSeconds.
    this.refill(entry.burst, burst, burst / (perSeconds * 1000), now);
    this.refill(entry.sustained, sustained, sustained / (perSeconds * 1000), now);
    if (entry.burst.tokens >= 1 && entry.sustained.tokens >= 1) {
      entry.burst.tokens -= 1;
      entry.sustained.tokens -= 1;
      return { allowed: true };
    }
    const waitBurst = entry.burst.tokens >= 1 ? 0 : ((1 - entry.burst.tokens) * perSeconds) / burst;
    const waitSustained = entry.sustained.tokens >= 1 ? 0 : ((1 - entry.sustained.tokens) * perSeconds) / sustained;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(Math.max(waitBurst, waitSustained))) };
  }
}

/**
 * The same two buckets in the store's shared table (PostgreSQL: one atomic statement per request, no transaction
 * lock), under `name` so limiters with the same keys (an address) do not share a budget.
 */
export class SharedRateLimiter implements Limiter {
  constructor(
    private readonly name: string,
    private readonly limit: RateLimit,
    private readonly shared: NonNullable<HubStore['sharedLimits']>,
    private readonly now: () => number = Date.now,
  ) {}

  consume(key: string): Promise<RateDecision> {
    return this.shared.consume(`${this.name}:${key}`, this.limit, this.now());
  }
}

/**
 * The limiter a route should use: shared through the store when several processes share it (PostgreSQL), else in
 * this process's memory.
 */
export function limiterFor(store: HubStore, name: string, limit: RateLimit, now: () => number): Limiter {
  return store.sharedLimits ? new SharedRateLimiter(name, limit, store.sharedLimits, now) : new RateLimiter(limit, now);
}
