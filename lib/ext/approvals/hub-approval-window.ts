/**
 * The approval window, like MetaMask's notification window: a 360 x 620 popup-type window at the top right of the
 * last focused browser window, opened when a new request arrives and no Clawkeep popup shows the queue already, and
 * reused (never opened twice) while it exists. Framework-free: the browser is reached through injected ports.
 *
 * A new request never takes keyboard focus (issue 13 item 3): the window opens unfocused and an open one only asks
 * for attention (taskbar flash), because an agent that times a request could otherwise steal the focus while the
 * person types elsewhere. Only the person's own action (a notification click) focuses it. Where a platform focuses a
 * new window anyway, the card's input arming (components/shared/input-arming.ts) still ignores the typing.
 */
export const APPROVAL_PAGE = 'approval.html';
export const POPUP_PAGE = 'popup.html';
export const APPROVAL_WIDTH = 360;
export const APPROVAL_HEIGHT = 620;

export interface WindowBounds {
  left?: number;
  top?: number;
  width?: number;
  height?: number;
}

/** One open extension page: its path ('approval.html', 'popup.html', …) and the window it lives in. */
export interface OpenPage {
  page: string;
  windowId: number | null;
}

export interface ApprovalWindowPorts {
  /**
   * Our open popup and tab pages (runtime.getContexts in Chromium, extension.getViews where that exists), or null
   * when the browser offers neither: then only the tracked window id tells us anything.
   */
  openPages(): Promise<OpenPage[] | null>;
  /** True if a window with this id still exists. */
  windowExists(id: number): Promise<boolean>;
  lastFocused(): Promise<WindowBounds | null>;
  /** Opens a window; `focused: false` asks the browser to leave the focus where it is. */
  create(details: {
    url: string;
    type: 'popup';
    focused: boolean;
    width: number;
    height: number;
    left?: number;
    top?: number;
  }): Promise<number | null>;
  /** Raises and focuses a window: only for the person's own action (e.g. a notification click). */
  focus(id: number): Promise<void>;
  /** Asks for attention without taking focus (flashes the window in the taskbar). */
  attention(id: number): Promise<void>;
  /** The tracked window id (survives a worker restart through storage.session). */
  load(): Promise<number | null>;
  save(id: number | null): Promise<void>;
  url(page: string): string;
}

export type WindowDecision =
  | { action: 'none'; reason: 'no-new-intents' | 'disabled' | 'popup-open' }
  /** The window is open: ask for attention, never take focus. */
  | { action: 'attention'; windowId: number }
  /** The person asked to see it (notification click): raise and focus it. */
  | { action: 'focus'; windowId: number }
  /** Open it; `focused` is true only when the person asked for it. */
  | { action: 'open'; focused: boolean };

export interface WindowSituation {
  newIntents: number;
  enabled: boolean;
  /** Our approval window, if one is open. */
  approvalWindowId: number | null;
  /** The toolbar popup (or popup.html in a tab) is open and shows the queue already. */
  popupOpen: boolean;
}

/**
 * What to do when the pending list changed: only new requests, while enabled, ever open a window or ask for
 * attention; nothing here takes focus. Locked or not (issue 15): a locked vault's window asks to unlock first, then
 * shows the card (components/approvals/approval-window-app.tsx), so an agent is not left waiting unseen.
 */
export function decideApprovalWindow(s: WindowSituation): WindowDecision {
  if (s.newIntents <= 0) return { action: 'none', reason: 'no-new-intents' };
  if (!s.enabled) return { action: 'none', reason: 'disabled' };
  if (s.approvalWindowId !== null) return { action: 'attention', windowId: s.approvalWindowId };
  if (s.popupOpen) return { action: 'none', reason: 'popup-open' };
  return { action: 'open', focused: false };
}

/** Top right of the last focused window (MetaMask's placement); no position when it is unknown. */
export function approvalWindowBounds(last: WindowBounds | null): {
  width: number;
  height: number;
  left?: number;
  top?: number;
} {
  const size = { width: APPROVAL_WIDTH, height: APPROVAL_HEIGHT };
  if (!last || typeof last.left !== 'number' || typeof last.top !== 'number' || typeof last.width !== 'number')
    return size;
  return { ...size, left: Math.max(0, last.left + last.width - APPROVAL_WIDTH), top: Math.max(0, last.top) };
}

/** Ids in `pending` not in `seen`. */
export function newIntentIds(seen: ReadonlySet<string>, pending: readonly { intent_id: string }[]): string[] {
  return pending.map((i) => i.intent_id).filter((id) => !seen.has(id));
}

function pageOf(url: string, base: string): string {
  return url.startsWith(base) ? url.slice(base.length).split(/[?#]/)[0]!.replace(/^\//, '') : '';
}

/** Turns context / view URLs into OpenPage rows for our own pages. */
export function ourPages(rows: { url: string; windowId?: number | null }[], base: string): OpenPage[] {
  return rows
    .map((r) => ({
      page: pageOf(r.url, base),
      windowId: typeof r.windowId === 'number' && r.windowId >= 0 ? r.windowId : null,
    }))
    .filter((p) => p.page !== '');
}

export class ApprovalWindow {
  private busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly ports: ApprovalWindowPorts) {}

  /** The open approval window's id, from the open pages or the tracked id; null when none is open. */
  private async current(pages: OpenPage[] | null): Promise<number | null> {
    const fromPages = pages?.find((p) => p.page === APPROVAL_PAGE && p.windowId !== null)?.windowId ?? null;
    if (fromPages !== null) return fromPages;
    const tracked = await this.ports.load().catch(() => null);
    if (tracked === null) return null;
    // A window we opened and that still exists (its page may still be loading) is ours: popup windows have no URL bar.
    if (await this.ports.windowExists(tracked).catch(() => false)) return tracked;
    await this.ports.save(null).catch(() => {});
    return null;
  }

  /** New requests arrived: opens the window or asks for attention, as decideApprovalWindow says. Serialized, never throws. */
  onNewIntents(newIntents: number, enabled: boolean): Promise<WindowDecision> {
    const run = async (): Promise<WindowDecision> => {
      // Cheap exits first: no browser calls for a refresh without news.
      const early = decideApprovalWindow({ newIntents, enabled, approvalWindowId: null, popupOpen: false });
      if (early.action === 'none') return early;
      const pages = await this.ports.openPages().catch(() => null);
      const approvalWindowId = await this.current(pages);
      const popupOpen = (pages ?? []).some((p) => p.page === POPUP_PAGE);
      const decision = decideApprovalWindow({ newIntents, enabled, approvalWindowId, popupOpen });
      await this.apply(decision);
      return decision;
    };
    const next = this.busy.then(run, run).catch((): WindowDecision => ({ action: 'none', reason: 'no-new-intents' }));
    this.busy = next;
    return next;
  }

  /** Opens or focuses the window whatever else is open (e.g. a notification was clicked). */
  show(): Promise<void> {
    const run = async () => {
      const id = await this.current(await this.ports.openPages().catch(() => null));
      await this.apply(id !== null ? { action: 'focus', windowId: id } : { action: 'open', focused: true });
    };
    const next = this.busy.then(run, run).catch(() => {});
    this.busy = next;
    return next;
  }

  private async apply(decision: WindowDecision): Promise<void> {
    if (decision.action === 'focus') {
      await this.ports.focus(decision.windowId);
    } else if (decision.action === 'attention') {
      await this.ports.attention(decision.windowId).catch(() => {});
    } else if (decision.action === 'open') {
      const bounds = approvalWindowBounds(await this.ports.lastFocused().catch(() => null));
      const details = {
        url: this.ports.url(APPROVAL_PAGE),
        type: 'popup' as const,
        focused: decision.focused,
        ...bounds,
      };
      // Chromium refuses bounds mostly off screen (the last window may span monitors): then let it place the window.
      const id = await this.ports.create(details).catch(() =>
        this.ports.create({
          url: details.url,
          type: 'popup',
          focused: decision.focused,
          width: bounds.width,
          height: bounds.height,
        }),
      );
      await this.ports.save(id).catch(() => {});
    }
  }
}
