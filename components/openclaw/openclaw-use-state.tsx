import { useCallback, useEffect, useState } from 'preact/hooks';
import type { OpenClawApi, OpenClawState } from '../../lib/ext/openclaw/openclaw-api';
import { errorMessage } from '../../lib/errors';

/** The background's OpenClaw state, re-read whenever the background says it changed (or `key` changes). */
export function useOpenClawState(api: OpenClawApi, key?: unknown) {
  const [state, setState] = useState<OpenClawState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setState(await api.state());
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [api]);
  useEffect(() => {
    void reload();
    return api.subscribe(() => void reload());
  }, [api, reload, key]);
  return { state, setState, error, reload };
}

/** One line for the connection status. */
export function statusLine(state: OpenClawState): string {
  if (!state.configured) return 'No gateway configured.';
  switch (state.status) {
    case 'connected':
      return `Connected to ${state.url}.`;
    case 'connecting':
      return `Connecting to ${state.url}…`;
    case 'reconnecting':
      return `Connection lost; reconnecting to ${state.url}…`;
    case 'failed':
      return state.problem ? state.problem.title : 'Not connected.';
    default:
      return state.unlocked ? 'Disconnected.' : 'Unlock the vault to connect.';
  }
}
