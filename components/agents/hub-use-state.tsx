import type { HubState } from '../../lib/hub-client/api';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import { useBackgroundState } from '../shared/use-background-state';

/** The background's hub state, re-read whenever it changed; only the newest read is shown (use-background-state.ts). */
export const useHubState = (hub: HubApi, key?: unknown) => useBackgroundState<HubState>(hub, key);

/** "3 min ago" style, for last activity; absolute times stay in the title attribute. */
export function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}
