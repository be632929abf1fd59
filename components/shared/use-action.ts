import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ClawkeepError, errorMessage } from '../../lib/errors';

export type ActionResult<T> = { ok: true; value: T } | { ok: false };

export interface Action {
  busy: boolean;
  /** A message for a role="alert" element, or null. */
  error: string | null;
  setError: (message: string | null) => void;
  run: <T>(fn: () => Promise<T>) => Promise<ActionResult<T>>;
}

/** Runs one async client call at a time, tracking busy state and the user-facing error message. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The form often unmounts on success (unlock → vault), so late state updates must be skipped.
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const run = useCallback(async <T>(fn: () => Promise<T>): Promise<ActionResult<T>> => {
    setBusy(true);
    setError(null);
    try {
      const value = await fn();
      return { ok: true, value };
    } catch (err) {
      // Ours carry a user-fit message; anything else is a bug worth seeing in the console.
      if (!(err instanceof ClawkeepError)) console.error(err);
      if (mounted.current) setError(errorMessage(err));
      return { ok: false };
    } finally {
      if (mounted.current) setBusy(false);
    }
  }, []);

  return { busy, error, setError, run };
}
