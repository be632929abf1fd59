import type { BrowserContext, Page, Worker } from '@playwright/test';
import { AgentClient } from '../../lib/agent';
import { badgeText, claimAgent, expect, setUpVaultAndEnroll, test, type Hub } from './hub';

const SCOPE = 'action:action.approve';
const step = (summary: string) => ({ kind: 'action.approve', payload: { summary, risk: 'low' } });

/** Vault created, device enrolled, an in-process agent registered and claimed with action:action.approve. */
async function claimedAgent(vault: Page, hub: Hub, name: string): Promise<AgentClient> {
  await setUpVaultAndEnroll(vault, hub, []);
  const agent = new AgentClient({ fetch: (url, init) => fetch(url, init) });
  const reg = await agent.register({
    hub: hub.url,
    name,
    manifest: { markdown: `# ${name}\n\nAn end-to-end test agent.` },
    requestedScopes: [SCOPE],
  });
  await claimAgent(
    vault,
    { name, state: '', agent_id: reg.agent_id, claim_code: reg.claim_code, fingerprint: reg.fingerprint },
    [SCOPE],
  );
  return agent;
}

const approvalPages = (context: BrowserContext) => context.pages().filter((p) => p.url().endsWith('approval.html'));

/**
 * Browser windows showing approval.html, as the background sees them. The extension's own pages are found with
 * runtime.getContexts: tabs.url is hidden without the "tabs" permission (which Clawkeep does not ask for) in the
 * Chromium Debian ships now.
 */
const approvalWindows = (sw: Worker) =>
  sw.evaluate(async () => {
    const c = (
      globalThis as unknown as {
        chrome: {
          runtime: { getContexts(q: object): Promise<{ documentUrl?: string; windowId: number }[]> };
          windows: { getAll(q: object): Promise<{ id: number; type: string }[]> };
        };
      }
    ).chrome;
    const pages = await c.runtime.getContexts({ contextTypes: ['TAB'] });
    const ids = new Set(pages.filter((p) => (p.documentUrl ?? '').endsWith('approval.html')).map((p) => p.windowId));
    return (await c.windows.getAll({})).filter((w) => ids.has(w.id)).map((w) => ({ id: w.id, type: w.type }));
  });

test('a new request opens the approval window; a second one reuses it; deciding the last closes it', async ({
  context,
  openVault,
  serviceWorker,
  hub,
}) => {
  const vault = await openVault();
  const agent = await claimedAgent(vault, hub, 'window-bot');
  // Only the vault tab is open (it does not show the queue): no popup, no approval window.
  expect(approvalPages(context)).toHaveLength(0);

  const opened = context.waitForEvent('page', { timeout: 20_000 });
  const first = await agent.createIntent(step('Deploy the docs site'));
  const win = await opened;
  await expect(win).toHaveURL(/\/approval\.html$/);
  const card = win.getByRole('region', { name: 'Pending requests' });
  await expect(card.getByText('Deploy the docs site')).toBeVisible();
  await expect(card.getByText('window-bot')).toBeVisible();
  await expect(
    win.getByText('Closing this window decides nothing: requests stay pending until they expire.'),
  ).toBeVisible();
  const [w] = await approvalWindows(serviceWorker);
  // Its size is checked in the unit tests: headless Chromium does not keep window bounds.
  expect(w).toMatchObject({ type: 'popup' });

  // A second request: the same window shows it, no second window or page.
  let extraPages = 0;
  const countPages = (p: Page) =>
    void (p.url().endsWith('approval.html') || p.url() === 'about:blank' ? extraPages++ : undefined);
  context.on('page', countPages);
  const second = await agent.createIntent(step('Rotate the staging token'));
  await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('2');
  await expect(card.getByText('1 of 2')).toBeVisible();
  // Give a wrongly opened second window time to appear.
  await win.waitForTimeout(1_000);
  expect(extraPages).toBe(0);
  expect(approvalPages(context)).toHaveLength(1);
  expect(await approvalWindows(serviceWorker)).toEqual([w]);
  context.off('page', countPages);

  // Approve both there: the agent sees the approval, and the window closes itself once the queue is empty.
  await card.getByRole('button', { name: 'Approve' }).click();
  await expect(card.getByText('1 of 1')).toBeVisible();
  expect((await agent.waitForDecision(first.intent_id, { timeoutMs: 10_000, pollMs: 200 })).decision).toBe('approved');
  const closed = win.waitForEvent('close');
  await card.getByText('Rotate the staging token').waitFor();
  await card.getByRole('button', { name: 'Approve' }).click();
  await closed;
  expect((await agent.waitForDecision(second.intent_id, { timeoutMs: 10_000, pollMs: 200 })).decision).toBe('approved');
  await expect.poll(() => badgeText(serviceWorker)).toBe('');
  expect(await approvalWindows(serviceWorker)).toEqual([]);
});

test('five denials lock the installation; "Re-enable" in the Agents tab lets the agent ask again', async ({
  context,
  openVault,
  openPopup,
  serviceWorker,
  hub,
}) => {
  const vault = await openVault();
  const agent = await claimedAgent(vault, hub, 'deny-bot');

  // The setting is on by default and stays off once turned off (stored with the hub settings).
  const windowSetting = vault.getByRole('checkbox', { name: 'Open an approval window for new requests' });
  await expect(windowSetting).toBeChecked();
  await expect(vault.getByRole('checkbox', { name: 'Show a system notification' })).not.toBeChecked();
  await windowSetting.uncheck();
  await expect(windowSetting).not.toBeChecked();
  await vault.reload();
  await vault.getByRole('tab', { name: 'Agents' }).click();
  await expect(vault.getByRole('checkbox', { name: 'Open an approval window for new requests' })).not.toBeChecked();

  const popup = await openPopup();
  const card = popup.getByRole('region', { name: 'Pending requests' });
  for (let i = 1; i <= 5; i++) {
    await agent.createIntent(step(`Step ${i}`));
    await expect(card.getByText(`Step ${i}`)).toBeVisible({ timeout: 20_000 });
    await card.getByRole('button', { name: 'Deny', exact: true }).click();
    await expect(card).toHaveCount(0);
  }
  // The hub's own words are never shown (issue 13 item 16): the code, and our text for it.
  await expect(agent.createIntent(step('Step 6'))).rejects.toMatchObject({
    code: 'forbidden',
    message: expect.stringMatching(/locked/i),
  });
  expect(approvalPages(context)).toHaveLength(0);

  const installations = vault.getByRole('region', { name: 'Installations' });
  await expect(installations.getByText('Locked after repeated denials')).toBeVisible();
  await installations.getByRole('button', { name: 'Re-enable deny-bot' }).click();
  await expect(installations.getByText('Locked after repeated denials')).toHaveCount(0);
  await expect(installations.getByText('Status: active')).toBeVisible();

  const again = await agent.createIntent(step('Step 7'));
  expect(again.status).toBe('pending');
  await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');
});
