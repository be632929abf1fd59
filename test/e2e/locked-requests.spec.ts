import type { Page, Worker } from '@playwright/test';
import { AgentClient } from '../../lib/agent';
import { utf8Decode } from '../../lib/bytes';
import { badgeText, claimAgent, expect, setUpVaultAndEnroll, test } from './hub';
import { PASSPHRASE } from './helpers';

// Issue 15, must-show 1: "A locked vault hides every agent request" no more. With the vault locked an agent asks:
// the badge counts it, the approval window opens and asks to unlock, the popup says a request waits with the
// passphrase field right there; unlocking from the popup shows the card, Approve, and the agent has the value. And
// nothing a locked extension holds (the watch token in chrome.storage.local) can approve or read the request.

const SECRET = { name: 'arxiv-key', value: 'arxiv-locked-e2e-7c2a91', notes: '', tags: '' };
const SCOPE = 'secret:read:arxiv-key';
const SHOTS = process.env.CLAWKEEP_SCREENSHOTS ?? 'test-results/screens';

/** What chrome.storage.local holds for the locked watcher (lib/storage/persisted-keys.ts HUB_WATCH). */
const watchRecords = (sw: Worker) =>
  sw.evaluate(async () => {
    const c = (
      globalThis as unknown as { chrome: { storage: { local: { get(k: string): Promise<Record<string, unknown>> } } } }
    ).chrome;
    return ((await c.storage.local.get('clawkeep.hub.watch'))['clawkeep.hub.watch'] ?? []) as {
      hub: string;
      token: string;
    }[];
  });

async function lockFromPopup(popup: Page): Promise<void> {
  await popup.getByRole('button', { name: 'Lock now' }).click();
  await expect(popup.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
}

test('locked: the badge counts a request, the popup says it waits, unlock there shows the card, Approve, the agent has the value', async ({
  context,
  openVault,
  openPopup,
  serviceWorker,
  hub,
}) => {
  const vault = await openVault();
  await setUpVaultAndEnroll(vault, hub, [SECRET]);
  const agent = new AgentClient({ fetch: (url, init) => fetch(url, init) });
  const reg = await agent.register({
    hub: hub.url,
    name: 'research-bot',
    manifest: { markdown: '# research-bot' },
    requestedScopes: [SCOPE],
  });
  await claimAgent(
    vault,
    {
      name: 'research-bot',
      state: '',
      agent_id: reg.agent_id,
      claim_code: reg.claim_code,
      fingerprint: reg.fingerprint,
    },
    [SCOPE],
  );
  // Enrolment registered this device's watch token (device-signed PUT /v1/watch).
  await expect.poll(async () => (await watchRecords(serviceWorker)).length, { timeout: 20_000 }).toBe(1);

  // Lock, then the agent asks.
  let popup = await openPopup();
  await lockFromPopup(popup);
  await popup.close();
  await expect.poll(() => badgeText(serviceWorker)).toBe('');
  const opened = context.waitForEvent('page', { timeout: 20_000 });
  const intent = await agent.createIntent({
    kind: 'secret.request',
    payload: { item: SECRET.name, reason: 'fetch new papers while you were away' },
  });

  // The badge counts it while locked.
  await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');

  // The approval window opens on the new request and asks to unlock first; nothing about the request shows.
  const win = await opened;
  await expect(win).toHaveURL(/\/approval\.html$/);
  await win.setViewportSize({ width: 360, height: 620 });
  const winForm = win.getByRole('form', { name: 'Vault locked' });
  await expect(winForm.getByRole('status')).toHaveText('1 request waiting — unlock to review');
  await expect(winForm.getByLabel('Passphrase')).toBeVisible();
  await expect(win.getByText('fetch new papers')).toHaveCount(0);
  await win.screenshot({ path: `${SHOTS}/locked-approval-window-360.png` });
  await win.close();
  // The vault tab, locked too, says the same above its passphrase field.
  await vault.setViewportSize({ width: 1280, height: 800 });
  await expect(vault.getByRole('form', { name: 'Vault locked' }).getByRole('status')).toHaveText(
    '1 request waiting — unlock to review',
  );
  await vault.screenshot({ path: `${SHOTS}/locked-vault-1280.png` });

  // Nothing available while locked can approve: the watch token, read from storage as malware would, counts and
  // nothing more; the decision and intent routes refuse it, and the request stays pending.
  const [record] = await watchRecords(serviceWorker);
  const bearer = { authorization: `Bearer ${record!.token}` };
  const watch = await fetch(`${hub.url}/v1/watch`, { headers: bearer });
  expect(await watch.json()).toEqual({ pending: 1, intent_ids: [intent.intent_id] });
  const decide = await fetch(`${hub.url}/v1/intents/${intent.intent_id}/decision`, {
    method: 'POST',
    headers: { ...bearer, 'content-type': 'application/json' },
    body: JSON.stringify({ decision: 'approve' }),
  });
  expect(decide.status).toBe(401);
  const read = await fetch(`${hub.url}/v1/intents/${intent.intent_id}`, { headers: bearer });
  expect(read.status).toBe(401);
  expect(await read.text()).not.toContain('fetch new papers');
  expect((await agent.getIntent(intent.intent_id)).status).toBe('pending');

  // The popup says a request waits, with the passphrase field right there.
  popup = await openPopup();
  await popup.setViewportSize({ width: 360, height: 600 });
  const form = popup.getByRole('form', { name: 'Vault locked' });
  await expect(form.getByRole('status')).toHaveText('1 request waiting — unlock to review');
  await popup.screenshot({ path: `${SHOTS}/locked-popup-360.png` });
  await form.getByLabel('Passphrase').fill(PASSPHRASE);
  await form.getByRole('button', { name: 'Unlock' }).click();

  // Unlocked from there: the card, directly.
  const card = popup.getByRole('region', { name: 'Pending requests' });
  await expect(card.getByText('fetch new papers while you were away')).toBeVisible({ timeout: 20_000 });
  await expect(card.getByText('research-bot')).toBeVisible();
  await popup.screenshot({ path: `${SHOTS}/locked-popup-unlocked-card-360.png` });
  await card.getByRole('button', { name: 'Approve' }).click();

  // The agent has the value.
  const { decision } = await agent.waitForDecision(intent.intent_id, { timeoutMs: 10_000, pollMs: 200 });
  expect(decision).toBe('approved');
  const executed = await agent.execute(intent.intent_id);
  expect(utf8Decode(executed.secret!)).toBe(SECRET.value);
  await expect.poll(() => badgeText(serviceWorker)).toBe('');
});
