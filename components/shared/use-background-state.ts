import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../../lib/errors';
import { useNewestAnswer } from './use-newest-answer';

/** A background service whose whole state a page reads, and which says when it changed (lib/ext/rpc/service.ts). */
export interface StateSource<T> {
  state(): Promise<T>;
  subscribe(listener: () => void): () => void;
}

/**
 * A background service's state, re-read whenever the service says it changed (or `key` changes). Several reads are
 * often in flight at once (one decision announces a change more than once): only the newest is shown
 * (use-newest-answer.ts). `setState` is for what an action returned, which wins over any read begun before it.
 */
export function useBackgroundState<T>(source: StateSource<T>, key?: unknown) {
  const [state, show] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ask = useNewestAnswer();
  const reload = useCallback(async () => {
    const isNewest = ask();
    try {
      const next = await source.state();
      if (!isNewest()) return;
      show(() => next);
      setError(null);
    } catch (err) {
      if (isNewest()) setError(errorMessage(err));
    }
  }, [source, ask]);
  const setState = useCallback(
    (next: T) => {
      ask();
      show(() => next);
    },
    [ask],
  );
  useEffect(() => {
    void reload();
    return source.subscribe(() => void reload());
  }, [source, reload, key]);
  return { state, setState, error, reload };
}
