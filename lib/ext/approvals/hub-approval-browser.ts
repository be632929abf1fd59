import { browser } from 'wxt/browser';
import { APPROVAL_WINDOW } from '../../storage/persisted-keys';
import { readStored, removeStored, writeStored } from '../../storage/stored-item';
import { storageArea } from '../storage-area';
import type { HubPrefs } from '../../hub-client/api';
import { ApprovalWindow, ourPages, type ApprovalWindowPorts, type OpenPage } from './hub-approval-window';
import type { NewIntentNotice } from '../hub/hub-service';

const NOTIFICATION_PREFIX = 'clawkeep.intent.';

interface ContextsApi {
  getContexts?(filter: { contextTypes: string[] }): Promise<{ documentUrl?: string; windowId?: number }[]>;
}
interface ViewsApi {
  getViews?(): Window[];
}

/** Our open popup / tab pages: runtime.getContexts (Chromium MV3), else extension.getViews (Firefox MV2), else null. */
async function openPages(): Promise<OpenPage[] | null> {
  const base = browser.runtime.getURL('/');
  const runtime = browser.runtime as unknown as ContextsApi;
  if (typeof runtime.getContexts === 'function') {
    const contexts = await runtime.getContexts({ contextTypes: ['POPUP', 'TAB'] });
    return ourPages(
      contexts.map((c) => ({ url: c.documentUrl ?? '', windowId: c.windowId })),
      base,
    );
  }
  const ext = (browser as unknown as { extension?: ViewsApi }).extension;
  if (typeof ext?.getViews === 'function') {
    // No window ids here: the tracked id finds the approval window.
    return ourPages(
      ext.getViews().map((w) => ({ url: w.location.href, windowId: null })),
      base,
    );
  }
  return null;
}

export function browserApprovalWindowPorts(): ApprovalWindowPorts {
  return {
    openPages,
    windowExists: async (id) => {
      try {
        await browser.windows.get(id);
        return true;
      } catch {
        return false;
      }
    },
    lastFocused: async () => {
      const w = await browser.windows.getLastFocused();
      return { left: w.left, top: w.top, width: w.width, height: w.height };
    },
    create: async (details) => {
      try {
        return (await browser.windows.create(details))?.id ?? null;
      } catch (err) {
        // A browser that rejects `focused: false` (older Firefox) opens it focused: the card's input arming
        // (components/shared/input-arming.ts) still ignores typing that began before it appeared.
        if (details.focused) throw err;
        const { focused: _focused, ...rest } = details;
        return (await browser.windows.create(rest))?.id ?? null;
      }
    },
    focus: async (id) => {
      await browser.windows.update(id, { focused: true });
    },
    attention: async (id) => {
      await browser.windows.update(id, { drawAttention: true });
    },
    load: async () => {
      // A damaged id throws its typed error; ApprovalWindow then opens a window instead of focusing one.
      return (await readStored(storageArea('session'), APPROVAL_WINDOW)) ?? null;
    },
    save: async (id) => {
      if (id === null) await removeStored(storageArea('session'), APPROVAL_WINDOW);
      else await writeStored(storageArea('session'), APPROVAL_WINDOW, id);
    },
    url: (page) => (browser.runtime.getURL as (path: string) => string)(`/${page}`),
  };
}

/** Notification text: agent name and kind only, never the payload. */
export function notificationText(notices: NewIntentNotice[]): { title: string; message: string } {
  const first = notices[0]!;
  const more = notices.length > 1 ? ` (+${notices.length - 1} more)` : '';
  return { title: 'Clawkeep: approval requested', message: `${first.agentName} asks: ${first.kind}${more}` };
}

/** Notification text while locked: the watcher knows only how many requests are new (hub-watch.ts). */
export function lockedNotificationText(count: number): { title: string; message: string } {
  return {
    title: 'Clawkeep: approval requested',
    message: `${count === 1 ? 'A request is' : `${count} requests are`} waiting. Unlock Clawkeep to review.`,
  };
}

/**
 * Reacts to new requests: opens / focuses the approval window and, if the person turned it on, shows a system
 * notification whose click opens the window. Returns the handlers for HubService's `newIntents` port (unlocked: agent
 * name and kind are known) and `waitingWhileLocked` port (locked: only a count; the window asks to unlock first).
 */
export function startApprovalUi() {
  const approvalWindow = new ApprovalWindow(browserApprovalWindowPorts());
  const notifications = (browser as unknown as { notifications?: typeof browser.notifications }).notifications;
  try {
    notifications?.onClicked.addListener((id) => {
      if (!id.startsWith(NOTIFICATION_PREFIX)) return;
      void approvalWindow.show();
      void Promise.resolve(notifications.clear(id)).catch(() => {});
    });
  } catch {
    // no notifications API: the setting does nothing
  }
  const notify = (id: string, text: { title: string; message: string }): void => {
    if (!notifications) return;
    void Promise.resolve(
      notifications.create(NOTIFICATION_PREFIX + id, {
        type: 'basic',
        iconUrl: browser.runtime.getURL('/icon/128.png'),
        ...text,
      }),
    ).catch(() => {});
  };
  return {
    newIntents(notices: NewIntentNotice[], prefs: HubPrefs): void {
      void approvalWindow.onNewIntents(notices.length, prefs.approvalWindow);
      if (prefs.notifications) notify(notices[0]!.intent_id, notificationText(notices));
    },
    waitingWhileLocked(count: number, prefs: HubPrefs): void {
      void approvalWindow.onNewIntents(count, prefs.approvalWindow);
      // One notification id for the locked state: a newer count replaces the older one.
      if (prefs.notifications) notify('locked', lockedNotificationText(count));
    },
  };
}
