import { browser } from 'wxt/browser';

/** Toolbar badge for pending approvals, like MetaMask's: blue, the count, "9+" above nine, empty when none. */
export const BADGE_COLOR = '#0376C9';

export function badgeText(count: number): string {
  if (!Number.isFinite(count) || count <= 0) return '';
  return count > 9 ? '9+' : String(Math.floor(count));
}

export interface BadgeAction {
  setBadgeText(details: { text: string }): Promise<void> | void;
  setBadgeBackgroundColor(details: { color: string }): Promise<void> | void;
}

/** The toolbar button: `action` in MV3, `browserAction` in Firefox MV2. */
export function badgeAction(): BadgeAction | undefined {
  const b = browser as unknown as { action?: BadgeAction; browserAction?: BadgeAction };
  return b.action ?? b.browserAction;
}

/** Pending counts per source (hub intents, OpenClaw approvals); the badge shows their sum. */
const counts = new Map<string, number>();
const total = (): number => [...counts.values()].reduce((a, b) => a + b, 0);

/**
 * Sets the badge to the sum over sources, `count` being this source's; a browser without the API (or a test
 * double) is not an error. The text is computed right before it is set, so of two overlapping calls the last one
 * written shows the newest counts.
 */
export async function showPendingCount(action: BadgeAction | undefined, count: number, source = 'hub'): Promise<void> {
  counts.set(source, Number.isFinite(count) && count > 0 ? count : 0);
  if (!action) return;
  try {
    if (badgeText(total())) await action.setBadgeBackgroundColor({ color: BADGE_COLOR });
    await action.setBadgeText({ text: badgeText(total()) });
  } catch {
    // No toolbar button (e.g. a test browser): nothing to show.
  }
}
