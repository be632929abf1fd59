import { describe, expect, it } from 'vitest';
import {
  APPROVAL_HEIGHT,
  APPROVAL_WIDTH,
  ApprovalWindow,
  approvalWindowBounds,
  decideApprovalWindow,
  newIntentIds,
  ourPages,
  type ApprovalWindowPorts,
  type OpenPage,
} from '../../../lib/ext/approvals/hub-approval-window';
import { notificationText } from '../../../lib/ext/approvals/hub-approval-browser';

const BASE = 'chrome-extension://abc/';

/** A fake browser: windows by id, open pages, the tracked id; records what was created and focused. */
function fakeBrowser(
  init: {
    pages?: OpenPage[] | null;
    windows?: number[];
    tracked?: number | null;
    last?: { left: number; top: number; width: number } | null;
  } = {},
) {
  const windows = new Set(init.windows ?? []);
  let tracked = init.tracked ?? null;
  let nextId = 100;
  const created: Parameters<ApprovalWindowPorts['create']>[0][] = [];
  const focused: number[] = [];
  const attention: number[] = [];
  const state = { pages: init.pages === undefined ? ([] as OpenPage[] | null) : init.pages };
  const ports: ApprovalWindowPorts = {
    openPages: async () => state.pages,
    windowExists: async (id) => windows.has(id),
    lastFocused: async () => init.last ?? null,
    create: async (d) => {
      created.push(d);
      const id = nextId++;
      windows.add(id);
      return id;
    },
    focus: async (id) => void focused.push(id),
    attention: async (id) => void attention.push(id),
    load: async () => tracked,
    save: async (id) => void (tracked = id),
    url: (page) => BASE + page,
  };
  return { ports, created, focused, attention, windows, state, tracked: () => tracked };
}

describe('decideApprovalWindow', () => {
  const base = { newIntents: 1, enabled: true, approvalWindowId: null, popupOpen: false };
  it('opens for a new intent when nothing of ours is open', () => {
    expect(decideApprovalWindow(base)).toEqual({ action: 'open', focused: false });
  });
  it('does nothing without new intents (a refresh of the same list)', () => {
    expect(decideApprovalWindow({ ...base, newIntents: 0 })).toEqual({ action: 'none', reason: 'no-new-intents' });
  });
  // Issue 15: a locked vault's window opens too (it asks to unlock first); the locked watcher reports only new ids.
  it('does nothing when the setting is off', () => {
    expect(decideApprovalWindow({ ...base, enabled: false, approvalWindowId: 7 })).toEqual({
      action: 'none',
      reason: 'disabled',
    });
  });
  it('asks for attention on an open approval window (never focuses it) instead of opening another, even with the popup open', () => {
    expect(decideApprovalWindow({ ...base, approvalWindowId: 7 })).toEqual({ action: 'attention', windowId: 7 });
    expect(decideApprovalWindow({ ...base, approvalWindowId: 7, popupOpen: true })).toEqual({
      action: 'attention',
      windowId: 7,
    });
  });
  it('leaves it to the popup when the popup shows the queue already', () => {
    expect(decideApprovalWindow({ ...base, popupOpen: true })).toEqual({ action: 'none', reason: 'popup-open' });
  });
});

describe('approval window helpers', () => {
  it('places 360x620 at the top right of the last focused window', () => {
    expect(approvalWindowBounds({ left: 100, top: 50, width: 1200 })).toEqual({
      width: APPROVAL_WIDTH,
      height: APPROVAL_HEIGHT,
      left: 940,
      top: 50,
    });
    expect(approvalWindowBounds({ left: 0, top: 0, width: 200 })).toEqual({ width: 360, height: 620, left: 0, top: 0 });
    expect(approvalWindowBounds(null)).toEqual({ width: 360, height: 620 });
  });
  it('newIntentIds lists only ids not seen before', () => {
    expect(newIntentIds(new Set(['a']), [{ intent_id: 'a' }, { intent_id: 'b' }])).toEqual(['b']);
  });
  it('ourPages keeps our pages only, by path, without query or hash', () => {
    expect(
      ourPages(
        [
          { url: `${BASE}approval.html?x=1`, windowId: 3 },
          { url: `${BASE}popup.html#/`, windowId: -1 },
          { url: 'https://example.com/popup.html', windowId: 4 },
        ],
        BASE,
      ),
    ).toEqual([
      { page: 'approval.html', windowId: 3 },
      { page: 'popup.html', windowId: null },
    ]);
  });
  it('notification text names the agent and kind only', () => {
    const t = notificationText([
      { intent_id: 'i1', kind: 'shell.exec', agentName: 'bot' },
      { intent_id: 'i2', kind: 'payment.send', agentName: 'bot' },
    ]);
    expect(t.message).toBe('bot asks: shell.exec (+1 more)');
  });
});

describe('ApprovalWindow with injected ports', () => {
  it('a new request opens approval.html unfocused and tracks its id; a second one only asks for attention, never takes focus', async () => {
    const b = fakeBrowser({ last: { left: 0, top: 10, width: 1000 } });
    expect(await new ApprovalWindow(b.ports).onNewIntents(1, true)).toEqual({ action: 'open', focused: false });
    expect(b.created).toEqual([
      { url: `${BASE}approval.html`, type: 'popup', focused: false, width: 360, height: 620, left: 640, top: 10 },
    ]);
    expect(b.tracked()).toBe(100);
    // A fresh instance (worker restart) still finds it through the tracked id while its page loads.
    expect(await new ApprovalWindow(b.ports).onNewIntents(1, true)).toEqual({
      action: 'attention',
      windowId: 100,
    });
    expect(b.attention).toEqual([100]);
    expect(b.focused).toEqual([]);
    expect(b.created).toHaveLength(1);
  });
  it('finds an approval window from the open pages', async () => {
    const b = fakeBrowser({ pages: [{ page: 'approval.html', windowId: 9 }], windows: [9] });
    expect(await new ApprovalWindow(b.ports).onNewIntents(2, true)).toEqual({ action: 'attention', windowId: 9 });
  });
  it('opens a new one when the tracked window was closed', async () => {
    const b = fakeBrowser({ tracked: 5 });
    expect(await new ApprovalWindow(b.ports).onNewIntents(1, true)).toEqual({ action: 'open', focused: false });
    expect(b.tracked()).toBe(100);
  });
  it('does not open while the popup is open, disabled, or without news', async () => {
    const popup = fakeBrowser({
      pages: [
        { page: 'popup.html', windowId: 1 },
        { page: 'vault.html', windowId: 1 },
      ],
    });
    expect(await new ApprovalWindow(popup.ports).onNewIntents(1, true)).toEqual({
      action: 'none',
      reason: 'popup-open',
    });
    const b = fakeBrowser();
    const w = new ApprovalWindow(b.ports);
    expect((await w.onNewIntents(1, false)).action).toBe('none');
    expect((await w.onNewIntents(0, true)).action).toBe('none');
    expect(b.created).toHaveLength(0);
  });
  it('a vault tab does not count as a popup', async () => {
    const b = fakeBrowser({ pages: [{ page: 'vault.html', windowId: 1 }] });
    expect(await new ApprovalWindow(b.ports).onNewIntents(1, true)).toEqual({ action: 'open', focused: false });
  });
  it('two intents at once open one window (calls are serialized)', async () => {
    const b = fakeBrowser();
    const w = new ApprovalWindow(b.ports);
    await Promise.all([w.onNewIntents(1, true), w.onNewIntents(1, true)]);
    expect(b.created).toHaveLength(1);
    expect(b.attention).toEqual([100]);
    expect(b.focused).toEqual([]);
  });
  it('without any page list, only the tracked id counts', async () => {
    const b = fakeBrowser({ pages: null, tracked: 4, windows: [4] });
    expect(await new ApprovalWindow(b.ports).onNewIntents(1, true)).toEqual({ action: 'attention', windowId: 4 });
  });
  it('show() opens (focused) or focuses regardless of the popup: the person clicked the notification', async () => {
    const b = fakeBrowser({ pages: [{ page: 'popup.html', windowId: 1 }] });
    const w = new ApprovalWindow(b.ports);
    await w.show();
    await w.show();
    expect(b.created).toHaveLength(1);
    expect(b.created[0]!.focused).toBe(true);
    expect(b.focused).toEqual([100]);
  });
});

describe('ApprovalWindow placement fallback', () => {
  it('retries without a position when the browser refuses the bounds', async () => {
    const calls: object[] = [];
    const ports: ApprovalWindowPorts = {
      openPages: async () => [],
      windowExists: async () => false,
      lastFocused: async () => ({ left: 5000, top: 0, width: 1000 }),
      create: async (d) => {
        calls.push(d);
        if (d.left !== undefined) throw new Error('Invalid value for bounds.');
        return 1;
      },
      focus: async () => {},
      attention: async () => {},
      load: async () => null,
      save: async () => {},
      url: (page) => BASE + page,
    };
    expect(await new ApprovalWindow(ports).onNewIntents(1, true)).toEqual({ action: 'open', focused: false });
    expect(calls).toEqual([
      { url: `${BASE}approval.html`, type: 'popup', focused: false, width: 360, height: 620, left: 5640, top: 0 },
      { url: `${BASE}approval.html`, type: 'popup', focused: false, width: 360, height: 620 },
    ]);
  });
});
