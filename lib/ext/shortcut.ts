import { browser } from 'wxt/browser';

/** The keyboard shortcut that opens the toolbar popup, as the browser reports it, and where it is changed. */
export interface PopupShortcut {
  /** E.g. "Alt+Shift+K"; null when none is set (removed by the person, or taken by another extension). */
  shortcut: string | null;
  /** Where the person changes it in this browser. */
  changeAt: string;
}

/** The manifest's popup command: `_execute_action` (MV3, Chromium) or `_execute_browser_action` (MV2, Firefox). */
export const OPEN_POPUP_COMMANDS = ['_execute_action', '_execute_browser_action'] as const;

/**
 * Reads the popup shortcut with `commands.getAll()`: the suggested key in wxt.config.ts is only a suggestion, the
 * browser drops it on a conflict and the person can change it, so Settings shows what is actually assigned.
 */
export async function readPopupShortcut(): Promise<PopupShortcut> {
  const commands = await browser.commands.getAll();
  const open = commands.find((c) => (OPEN_POPUP_COMMANDS as readonly string[]).includes(c.name ?? ''));
  const firefox = import.meta.env.FIREFOX;
  return {
    shortcut: open?.shortcut || null,
    changeAt: firefox
      ? 'Firefox: Add-ons and themes (about:addons) → ⚙ → Manage Extension Shortcuts'
      : 'chrome://extensions/shortcuts (paste it into the address bar)',
  };
}
