/** Reconnect delays: exponential, capped, with symmetric jitter (so many clients do not reconnect in step). */
export interface BackoffOptions {
  /** First delay (ms). */
  baseMs: number;
  /** Upper bound for any delay, jitter included (ms). */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Fraction of the delay randomised either way, 0–1. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** Delay before reconnect attempt `attempt` (0-based). `random` returns [0, 1). */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const n = Math.max(0, Math.floor(attempt));
  const raw = Math.min(opts.maxMs, opts.baseMs * Math.pow(opts.factor, Math.min(n, 64)));
  const j = Math.min(1, Math.max(0, opts.jitter));
  const jittered = raw * (1 - j + 2 * j * random());
  return Math.round(Math.min(opts.maxMs, Math.max(0, jittered)));
}
