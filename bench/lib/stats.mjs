/** Nearest-rank percentile (p in 0..100) of a non-empty list: always one of the measured values. */
export function percentile(xs, p) {
  if (!xs.length) throw new Error('percentile of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Wall-clock milliseconds with sub-millisecond resolution. Node and Chromium both define
 * performance.timeOrigin + performance.now() as the system clock at the process's time origin plus monotonic time
 * since, so on one machine a value taken in the bench process and one taken in a page are on the same clock
 * (Date.now() would be too, but only to 1 ms).
 */
export const wallMs = () => performance.timeOrigin + performance.now();
