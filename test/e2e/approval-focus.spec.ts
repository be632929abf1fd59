import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page, Worker } from '@playwright/test';
import { AgentClient } from '../../lib/agent';
import { ARM_DELAY_MS } from '../../components/shared/input-arming';
import { badgeText, claimAgent, expect, setUpVaultAndEnroll, test, type Hub } from './hub';

// Issue 13 item 3 (Must show 2), in real Chromium with the built extension: a prompt-injected agent times its
// requests while the person types in another page.
// - The approval window opens, and a second request arrives, while another page has the focus: the window never
//   takes the focus (document.hasFocus() in the window itself, and the browser's windows API), and what the person
//   types ("a", Enter, Space) lands in the page they are typing in and approves nothing.
// - A platform that focuses the window anyway (modelled by focusing it from the extension's worker, which is what the
//   old code did on every new request) with the Approve button holding the keyboard focus: the keystrokes that
//   follow ("a", Enter, Space) approve nothing: no single-key approve, and Enter/Space are not armed yet.
// - A deliberate click on the visible card, after the arming delay, approves in one click.
// Playwright emulates focus for every page (each believes it has it); we switch that off for the two windows that
// matter so the page's focus is the browser window's real focus.

const SECRET = { name: 'deploy-token', value: 'dt-6b1f0c29e5', notes: 'CI deploys', tags: 'ci' };
const SCOPE = `secret:read:${SECRET.name}`;

/** A loopback page with a text field, as "the page the person is typing in". */
async function typingPage(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Notes</title><label>Notes <textarea id="notes" autofocus></textarea></label>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** What a person typing fast would send: Enter, space, "a" (the old approve shortcut), one key at a time. */
async function typeLikeAPerson(page: Page): Promise<void> {
  for (const key of ['Enter', ' ', 'a', 'a', 'Enter', ' ']) await page.keyboard.press(key);
}

/** Turns off Playwright's focus emulation for `page`: its document has the focus only when its window really does. */
async function realFocus(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
}

type Chrome = {
  runtime: { getContexts(q: object): Promise<{ documentUrl?: string; windowId: number }[]> };
  windows: {
    getAll(q: object): Promise<{ id: number; focused: boolean }[]>;
    update(id: number, u: object): Promise<unknown>;
  };
};

/** Whether the approval window, and any other window, has the focus, as the browser's windows API reports it. */
const windowFocus = (sw: Worker) =>
  sw.evaluate(async () => {
    const c = (globalThis as unknown as { chrome: Chrome }).chrome;
    const all = await c.windows.getAll({});
    // runtime.getContexts finds the extension's own pages: tabs.url is hidden without the "tabs" permission.
    const pages = await c.runtime.getContexts({ contextTypes: ['TAB'] });
    const ids = new Set(pages.filter((p) => (p.documentUrl ?? '').endsWith('approval.html')).map((p) => p.windowId));
    const isApproval = (w: (typeof all)[number]) => ids.has(w.id);
    return {
      approval: all.some((w) => isApproval(w) && w.focused),
      other: all.some((w) => !isApproval(w) && w.focused),
    };
  });

/** What a platform that focuses a new window anyway does (and what the extension did on each new request before). */
const focusApprovalWindow = (sw: Worker) =>
  sw.evaluate(async () => {
    const c = (globalThis as unknown as { chrome: Chrome }).chrome;
    const pages = await c.runtime.getContexts({ contextTypes: ['TAB'] });
    const w = pages.find((p) => (p.documentUrl ?? '').endsWith('approval.html'));
    if (!w) throw new Error('no approval window');
    await c.windows.update(w.windowId, { focused: true });
  });

async function claimedAgent(vault: Page, hub: Hub): Promise<AgentClient> {
  await setUpVaultAndEnroll(vault, hub, [SECRET]);
  const agent = new AgentClient({ fetch: (url, init) => fetch(url, init) });
  const reg = await agent.register({
    hub: hub.url,
    name: 'timing-bot',
    manifest: { markdown: '# timing-bot\n\nAsks at the worst moment.' },
    requestedScopes: [SCOPE],
  });
  await claimAgent(
    vault,
    { name: 'timing-bot', state: '', agent_id: reg.agent_id, claim_code: reg.claim_code, fingerprint: reg.fingerprint },
    [SCOPE],
  );
  return agent;
}

test('requests timed while the person types elsewhere take no focus and approve nothing; one click after arming approves', async ({
  context,
  openVault,
  serviceWorker,
  hub,
}) => {
  const vault = await openVault();
  const agent = await claimedAgent(vault, hub);
  const site = await typingPage();
  try {
    const page = await context.newPage();
    await realFocus(context, page);
    await page.goto(site.url);
    await page.bringToFront();
    const notes = page.getByLabel('Notes');
    await notes.focus();
    await expect(notes).toBeFocused();
    expect(await page.evaluate(() => document.hasFocus())).toBe(true);

    // The agent times its request; the approval window opens while the person types in the page.
    const opened = context.waitForEvent('page', {
      predicate: (p) => p.url().endsWith('approval.html'),
      timeout: 20_000,
    });
    const first = await agent.createIntent({
      kind: 'secret.request',
      payload: { item: SECRET.name, reason: 'deploy now' },
    });
    const win = await opened;
    await realFocus(context, win);
    const card = win.getByRole('region', { name: 'Pending requests' });
    await card.getByText(`the secret ${SECRET.name}`).waitFor();
    const approve = card.getByRole('button', { name: 'Approve' });

    // The window opened without taking the focus: neither its document nor the browser's windows API says it has it.
    expect(await win.evaluate(() => document.hasFocus())).toBe(false);
    expect(await windowFocus(serviceWorker)).toEqual({ approval: false, other: true });
    // What the person types goes on landing in their page, and decides nothing.
    await typeLikeAPerson(page);
    await expect(notes).toHaveValue('\n aa\n ');

    // A second request while the window is open: it asks for attention, it does not take the focus either.
    const second = await agent.createIntent({
      kind: 'secret.request',
      payload: { item: SECRET.name, reason: 'and again' },
    });
    await expect(card.getByText('1 of 2')).toBeVisible();
    await win.waitForTimeout(300);
    expect(await win.evaluate(() => document.hasFocus())).toBe(false);
    expect(await windowFocus(serviceWorker)).toEqual({ approval: false, other: true });
    await typeLikeAPerson(page);
    await expect(notes).toHaveValue('\n aa\n \n aa\n ');

    // A platform focuses the window anyway, with the keyboard focus on Approve: the keystrokes that follow decide nothing.
    await approve.focus();
    await focusApprovalWindow(serviceWorker);
    await expect.poll(() => win.evaluate(() => document.hasFocus())).toBe(true);
    await typeLikeAPerson(win);
    await win.waitForTimeout(500);
    for (const intent of [first, second]) {
      expect((await agent.getIntent(intent.intent_id)).status).toBe('pending');
      await expect(agent.execute(intent.intent_id)).rejects.toMatchObject({ code: 'intent_required' });
    }
    await expect(card.getByText('1 of 2')).toBeVisible();
    await expect(card.getByText('deploy now')).toBeVisible();
    expect(await badgeText(serviceWorker)).toBe('2');

    // A deliberate click on the card the person can see: one click approves, once armed.
    await win.waitForTimeout(ARM_DELAY_MS);
    await approve.click();
    expect((await agent.waitForDecision(first.intent_id, { timeoutMs: 10_000, pollMs: 200 })).decision).toBe(
      'approved',
    );
    expect(new TextDecoder().decode((await agent.execute(first.intent_id)).secret)).toBe(SECRET.value);
    // The next card takes its place and re-arms; one click on it, once armed, approves it and closes the window.
    await expect(card.getByText('and again')).toBeVisible();
    expect((await agent.getIntent(second.intent_id)).status).toBe('pending');
    await win.waitForTimeout(ARM_DELAY_MS);
    const closed = win.waitForEvent('close');
    await approve.click();
    expect((await agent.waitForDecision(second.intent_id, { timeoutMs: 10_000, pollMs: 200 })).decision).toBe(
      'approved',
    );
    await closed;
  } finally {
    site.server.closeAllConnections();
    await new Promise<void>((resolve) => site.server.close(() => resolve()));
  }
});
