/** How long a copied secret may sit in the clipboard. */
export const CLIPBOARD_CLEAR_MS = 30_000;

let pending: { text: string; timer: ReturnType<typeof setTimeout> | null } | null = null;

/**
 * Kept at module level, not in a component, so leaving the item view does not cancel the clear.
 * (Closing the page does; the clipboard then keeps the value, as with any copy.)
 */
export async function copyWithAutoClear(text: string): Promise<void> {
  await navigator.clipboard.writeText(text);
  if (pending?.timer) clearTimeout(pending.timer);
  pending = { text, timer: setTimeout(() => void clearCopiedSecret(), CLIPBOARD_CLEAR_MS) };
}

/** Reading the clipboard back would prompt the user unless permission is already granted. */
async function mayReadClipboard(): Promise<boolean> {
  try {
    const state = await navigator.permissions.query({ name: 'clipboard-read' as PermissionName });
    return state.state === 'granted';
  } catch {
    // Firefox does not know the permission name.
    return false;
  }
}

/** Empties the clipboard if it still holds what we put there; when we cannot look, empties it anyway. */
export async function clearCopiedSecret(): Promise<void> {
  const entry = pending;
  pending = null;
  if (!entry) return;
  if (entry.timer) clearTimeout(entry.timer);
  if (await mayReadClipboard()) {
    try {
      if ((await navigator.clipboard.readText()) !== entry.text) return;
    } catch {
      // Fall through and clear: better to lose an unrelated copy than to leave a secret behind.
    }
  }
  try {
    await navigator.clipboard.writeText('');
  } catch {
    // Chromium refuses clipboard writes while the page is not focused; retry once the user comes back.
    const waiting = { text: entry.text, timer: null };
    pending = waiting;
    window.addEventListener(
      'focus',
      () => {
        // A newer copy has its own timer; only finish this one if nothing replaced it.
        if (pending === waiting) void clearCopiedSecret();
      },
      { once: true },
    );
  }
}
