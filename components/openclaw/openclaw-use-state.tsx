import type { OpenClawApi, OpenClawState } from '../../lib/ext/openclaw/openclaw-api';
import { useBackgroundState } from '../shared/use-background-state';

/** The background's OpenClaw state, re-read whenever it changed; only the newest read is shown (use-background-state.ts). */
export const useOpenClawState = (api: OpenClawApi, key?: unknown) => useBackgroundState<OpenClawState>(api, key);

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
