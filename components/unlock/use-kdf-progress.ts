import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { KdfProgress } from '../../lib/vault/client';

export interface KdfProgressState {
  /** Null when no derivation is running. */
  progress: KdfProgress | null;
  /** Wraps a client call that takes an onProgress callback and animates the bar while it runs. */
  track: <T>(fn: (onProgress: (p: KdfProgress) => void) => Promise<T>) => Promise<T>;
}

const TICK_MS = 100;

/**
 * The KDF reports at most a start and an estimate, so the bar is advanced locally from the last report.
 * The derivation runs in a worker; this interval only repaints, so the page stays responsive.
 */
export function useKdfProgress(): KdfProgressState {
  const [progress, setProgress] = useState<KdfProgress | null>(null);
  const base = useRef<{ elapsedMs: number; expectedMs: number | null; at: number } | null>(null);
  const timer = useRef<ReturnType<typeof setInterval> | null>(null);

  const stop = useCallback(() => {
    if (timer.current !== null) clearInterval(timer.current);
    timer.current = null;
    base.current = null;
  }, []);

  useEffect(() => stop, [stop]);

  const track = useCallback(
    async <T>(fn: (onProgress: (p: KdfProgress) => void) => Promise<T>): Promise<T> => {
      stop();
      base.current = { elapsedMs: 0, expectedMs: null, at: performance.now() };
      setProgress({ elapsedMs: 0, expectedMs: null });
      timer.current = setInterval(() => {
        const b = base.current;
        if (!b) return;
        setProgress({ elapsedMs: b.elapsedMs + (performance.now() - b.at), expectedMs: b.expectedMs });
      }, TICK_MS);
      const onProgress = (p: KdfProgress): void => {
        if (!base.current) return;
        base.current = { elapsedMs: p.elapsedMs, expectedMs: p.expectedMs, at: performance.now() };
      };
      try {
        return await fn(onProgress);
      } finally {
        stop();
        setProgress(null);
      }
    },
    [stop],
  );

  return { progress, track };
}
