// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../hub/rate-limit';

describe('RateLimiter', () => {
  it('allows a burst, then refuses with a Retry-After, then refills with time', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 3, sustained: 60, perSeconds: 60 }, () => now);
    expect([1, 2, 3].map(() => limiter.consume('a').allowed)).toEqual([true, true, true]);
    const refused = limiter.consume('a');
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 20 });
    expect(limiter.consume('b').allowed).toBe(true); // keys are independent
    now += 20_000;
    expect(limiter.consume('a').allowed).toBe(true);
  });

  it('the sustained budget caps a long run of spaced-out requests', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 10, sustained: 5, perSeconds: 60 }, () => now);
    const results = Array.from({ length: 8 }, () => {
      now += 1000;
      return limiter.consume('k').allowed;
    });
    expect(results).toEqual([true, true, true, true, true, false, false, false]);
  });

  it('bounds memory under key churn', () => {
    const limiter = new RateLimiter({ burst: 1, sustained: 1, perSeconds: 60 }, () => 0, 100);
    for (let i = 0; i < 1000; i++) limiter.consume(`k${i}`);
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(100);
  });
});
