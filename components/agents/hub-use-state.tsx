import { useCallback, useEffect, useState } from 'preact/hooks';
import type { HubState } from '../../lib/hub-client/api';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import { errorMessage } from '../../lib/errors';

/** The background's hub state, re-read whenever the background says it changed (or `key` changes). */
export function useHubState(hub: HubApi, key?: unknown) {
  const [state, setState] = useState<HubState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setState(await hub.state());
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [hub]);
  useEffect(() => {
    void reload();
    return hub.subscribe(() => void reload());
  }, [hub, reload, key]);
  return { state, setState, error, reload };
}

/** "3 min ago" style, for last activity; absolute times stay in the title attribute. */
export function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}
