import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AgentClient } from '../../lib/agent';
import { utf8Decode } from '../../lib/bytes';
import { test, expect } from './fixtures';
import { badgeText, setUpVaultAndEnroll, startHub, stopHub } from './hub';

const SECRET = { name: 'arxiv-key', value: 'arxiv-e2e-secret-5d1f9c', notes: 'papers only', tags: 'research' };
// A manifest with markup: the claim screen must show it as text, never render it.
const MANIFEST = '# research-bot\n\nReads arXiv for you. <img src=x onerror="document.title=\'pwned\'">';

test('enrol, claim an agent, approve its secret request from the popup: the agent opens exactly the vault value', async ({
  openVault,
  openPopup,
  serviceWorker,
}) => {
  const hub = await startHub();
  try {
    const vault = await openVault();
    const deviceFingerprint = await setUpVaultAndEnroll(vault, hub, [SECRET]);
    expect(deviceFingerprint).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/);

    // An agent registers over HTTP with real signed requests (lib/agent).
    const agent = new AgentClient({ fetch: (url, init) => fetch(url, init) });
    const reg = await agent.register({
      hub: hub.url,
      name: 'research-bot',
      manifest: { markdown: MANIFEST },
      requestedScopes: ['secret:read:arxiv-key'],
    });

    // Claim it in the vault page.
    await vault.getByLabel('Claim code').fill(reg.claim_code);
    await vault.getByRole('button', { name: 'Look up' }).click();
    const preview = vault.getByRole('group', { name: 'Agent to claim' });
    await expect(preview.getByText(reg.fingerprint)).toBeVisible();
    await expect(preview.getByLabel('Manifest')).toHaveText(MANIFEST);
    await expect(preview.locator('img')).toHaveCount(0);
    // Least privilege: a requested scope starts unchecked; the person grants it deliberately.
    await expect(preview.getByRole('checkbox', { name: 'secret:read:arxiv-key' })).not.toBeChecked();
    // The scope in words next to its id (issue 15).
    await expect(preview.getByRole('checkbox', { name: 'Read the secret “arxiv-key”' })).toBeVisible();
    await preview.getByRole('checkbox', { name: 'secret:read:arxiv-key' }).check();
    await vault.getByRole('button', { name: 'Claim agent' }).click();
    await expect(vault.getByRole('region', { name: 'Claim an agent' }).getByRole('status')).toContainText(
      'Claimed research-bot',
    );
    await expect(vault.getByRole('list', { name: 'Claimed agents' })).toContainText(reg.fingerprint);
    await expect(vault.getByRole('list', { name: 'Claimed agents' })).toContainText(
      'Scopes: Read the secret “arxiv-key”',
    );
    expect(await vault.title()).not.toBe('pwned');

    const status = await agent.status();
    expect(status.status).toBe('claimed');
    expect(status.device_fingerprint).toBe(deviceFingerprint);
    expect(status.granted_scopes).toEqual(['secret:read:arxiv-key']);

    // The agent asks for the secret; the badge counts it.
    const intent = await agent.createIntent({
      kind: 'secret.request',
      payload: { item: 'arxiv-key', reason: 'fetch new papers' },
    });
    await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');

    // The popup shows the queue and approves.
    const popup = await openPopup();
    const card = popup.getByRole('region', { name: 'Pending requests' });
    await expect(card.getByText('the secret arxiv-key')).toBeVisible();
    await expect(card.getByText('fetch new papers')).toBeVisible();
    await expect(card.getByText('research-bot')).toBeVisible();
    await expect(card.getByText(reg.fingerprint)).toBeVisible();
    await expect(card.getByText('1 of 1')).toBeVisible();
    await expect(card.getByText(`Approving as ${deviceFingerprint}`)).toBeVisible();
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect(card).toHaveCount(0);
    await expect.poll(() => badgeText(serviceWorker)).toBe('');

    // The agent executes: the approval verifies under the pinned device key and the sealed secret opens.
    const { decision } = await agent.waitForDecision(intent.intent_id, { timeoutMs: 10_000, pollMs: 200 });
    expect(decision).toBe('approved');
    const executed = await agent.execute(intent.intent_id);
    expect(executed.approval?.decision).toBe('approve');
    expect(utf8Decode(executed.secret!)).toBe(SECRET.value);

    // A new request shows on the badge again; locking the vault stops the signed subscription, and the locked watcher
    // (issue 15, lib/ext/approvals/hub-watch.ts) keeps counting it: the request still waits.
    await agent.createIntent({ kind: 'secret.request', payload: { item: 'arxiv-key', reason: 'one more' } });
    await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');
    await popup.getByRole('button', { name: 'Lock now' }).click();
    await expect(popup.getByRole('form', { name: 'Vault locked' }).getByRole('status')).toHaveText(
      '1 request waiting — unlock to review',
    );
    await expect.poll(() => badgeText(serviceWorker)).toBe('1');

    // The hub only ever held ciphertext.
    for (const file of readdirSync(hub.dataDir)) {
      const bytes = readFileSync(path.join(hub.dataDir, file));
      expect(bytes.includes(Buffer.from(SECRET.value)), `secret found in ${file}`).toBe(false);
    }
  } finally {
    await stopHub(hub);
  }
});
