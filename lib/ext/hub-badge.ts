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

/** Sets the badge; a browser without the API (or a test double) is not an error. */
export async function showPendingCount(action: BadgeAction | undefined, count: number): Promise<void> {
  if (!action) return;
  const text = badgeText(count);
  try {
    if (text) await action.setBadgeBackgroundColor({ color: BADGE_COLOR });
    await action.setBadgeText({ text });
  } catch {
    // No toolbar button (e.g. a test browser): nothing to show.
  }
}
