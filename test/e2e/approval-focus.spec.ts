import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page, Worker } from '@playwright/test';
import { AgentClient } from '../../lib/agent';
import { ARM_DELAY_MS } from '../../components/input-arming';
import { badgeText, claimAgent, expect, setUpVaultAndEnroll, test, type Hub } from './hub';

// Issue 13 item 3, in real Chromium with the built extension: a prompt-injected agent times a request while the
// person types in another page. The approval window opens; the keystrokes typed there, and typed into the approval
// window itself (even with its Approve button focused), approve nothing. One click after the card is visible still
// approves in one click.

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

/** What a person typing fast would send: "aaaa", Enter, space, one key at a time. */
async function typeLikeAPerson(page: Page): Promise<void> {
  for (const key of ['a', 'a', 'a', 'a', 'Enter', ' ']) await page.keyboard.press(key);
}

/** Whether the approval window, and any other window, has the focus, as the browser's windows API reports it. */
const windowFocus = (sw: Worker) =>
  sw.evaluate(async () => {
    const c = (globalThis as unknown as { chrome: { windows: { getAll(q: object): Promise<{ focused: boolean; tabs?: { url?: string; pendingUrl?: string }[] }[]> } } }).chrome;
    const all = await c.windows.getAll({ populate: true });
    const isApproval = (w: (typeof all)[number]) => !!w.tabs?.some((t) => (t.url || t.pendingUrl || '').endsWith('approval.html'));
    return { approval: all.some((w) => isApproval(w) && w.focused), other: all.some((w) => !isApproval(w) && w.focused) };
  });

async function claimedAgent(vault: Page, hub: Hub): Promise<AgentClient> {
  await setUpVaultAndEnroll(vault, hub, [SECRET]);
  const agent = new AgentClient({ fetch: (url, init) => fetch(url, init) });
  const reg = await agent.register({ hub: hub.url, name: 'timing-bot', manifest: { markdown: '# timing-bot\n\nAsks at the worst moment.' }, requestedScopes: [SCOPE] });
  await claimAgent(vault, { name: 'timing-bot', state: '', agent_id: reg.agent_id, claim_code: reg.claim_code, fingerprint: reg.fingerprint }, [SCOPE]);
  return agent;
}

test('keystrokes typed elsewhere or into a window that just appeared approve nothing; one click after arming approves', async ({ context, openVault, serviceWorker, hub }) => {
  const vault = await openVault();
  const agent = await claimedAgent(vault, hub);
  const site = await typingPage();
  try {
    const page = await context.newPage();
    await page.goto(site.url);
    await page.bringToFront();
    const notes = page.getByLabel('Notes');
    await notes.focus();
    await expect(notes).toBeFocused();

    // The agent times its request; the approval window opens while the person types in the page.
    const opened = context.waitForEvent('page', { predicate: (p) => p.url().endsWith('approval.html'), timeout: 20_000 });
    const intent = await agent.createIntent({ kind: 'secret.request', payload: { item: SECRET.name, reason: 'deploy now' } });
    const win = await opened;
    const card = win.getByRole('region', { name: 'Pending requests' });
    await card.getByText(`the secret ${SECRET.name}`).waitFor();

    // The window opened without taking the focus (as the browser reports it); the page gets what the person types.
    expect(await windowFocus(serviceWorker)).toEqual({ approval: false, other: true });
    await typeLikeAPerson(page);
    await expect(notes).toHaveValue('aaaa\n ');

    // The same keystrokes delivered to the approval window itself, as if it had stolen the focus ...
    await typeLikeAPerson(win);
    const approve = card.getByRole('button', { name: 'Approve' });
    // Nothing was approved: the intent is still pending on the hub, the agent gets nothing, the card is still there.
    await win.waitForTimeout(500);
    expect((await agent.getIntent(intent.intent_id)).status).toBe('pending');
    await expect(agent.execute(intent.intent_id)).rejects.toMatchObject({ code: 'intent_required' });
    await expect(card.getByText(`the secret ${SECRET.name}`)).toBeVisible();
    expect(await badgeText(serviceWorker)).toBe('1');

    // A deliberate click on the card the person can see: one click approves.
    await win.waitForTimeout(ARM_DELAY_MS);
    const closed = win.waitForEvent('close');
    await approve.click();
    expect((await agent.waitForDecision(intent.intent_id, { timeoutMs: 10_000, pollMs: 200 })).decision).toBe('approved');
    expect(new TextDecoder().decode((await agent.execute(intent.intent_id)).secret)).toBe(SECRET.value);
    await closed;
  } finally {
    site.server.closeAllConnections();
    await new Promise<void>((resolve) => site.server.close(() => resolve()));
  }
});
