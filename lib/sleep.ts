/**
 * Resolves after `ms`, or at once when `signal` aborts (never rejects): for loops that wait between attempts and
 * must stop promptly when their owner stops them (the hub subscription, the locked watcher, PCCS retries).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}
