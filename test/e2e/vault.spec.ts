import { readFileSync } from 'node:fs';
import { test, expect } from './fixtures';
import {
  addAgentConfig,
  addSecret,
  createVault,
  dumpIndexedDb,
  expectAgentConfigIntact,
  expectNoneOf,
  expectSecretIntact,
  PASSPHRASE,
  unlock,
  type AgentConfigInput,
  type SecretInput,
} from './helpers';

const SECRET: SecretInput = {
  name: 'Stripe live key',
  value: 'sk_live_e2e_7f3a9c1d5b',
  notes: 'billing service only',
  tags: 'payments, prod',
};
const AGENT: AgentConfigInput = {
  name: 'research-bot',
  model: 'claude-sonnet-e2e',
  providerKey: { key: 'ANTHROPIC_API_KEY', value: 'sk-ant-e2e-provider-91b2' },
  env: { key: 'REGION', value: 'eu-west-e2e-region' },
};
const KNOWN = [
  SECRET.name,
  SECRET.value,
  SECRET.notes,
  'payments',
  AGENT.name,
  AGENT.model,
  AGENT.providerKey.key,
  AGENT.providerKey.value,
  AGENT.env.value,
  PASSPHRASE,
];

test('create, add a secret and an agent config, lock, wrong passphrase, unlock: values intact', async ({
  openPopup,
  openVault,
}) => {
  const popup = await openPopup();
  await createVault(popup);
  await expect(popup.getByText('Unlocked', { exact: true })).toBeVisible();

  const vault = await openVault();
  await addSecret(vault, SECRET);
  await addAgentConfig(vault, AGENT);

  await popup.getByRole('button', { name: 'Lock now' }).click();
  await expect(popup.getByText('Locked', { exact: true })).toBeVisible();
  // Every open page hears about the lock.
  await expect(vault.getByRole('heading', { name: 'Vault locked' })).toBeVisible();

  await unlock(popup, 'not the right passphrase');
  await expect(popup.getByRole('alert')).toContainText('Wrong passphrase');
  await expect(popup.getByText('Locked', { exact: true })).toBeVisible();

  await unlock(popup, PASSPHRASE);
  await expect(popup.getByText('Unlocked', { exact: true })).toBeVisible();
  await vault.reload();
  await expectSecretIntact(vault, SECRET);
  await expectAgentConfigIntact(vault, AGENT);
});

test('raw IndexedDB of the extension holds no name, value or passphrase', async ({ openVault }) => {
  const vault = await openVault();
  await createVault(vault, PASSPHRASE, 'floor');
  await addSecret(vault, SECRET);
  await addAgentConfig(vault, AGENT);

  const dump = await dumpIndexedDb(vault);
  expect(dump.databases).toContain('clawkeep-vault');
  // header + settings/estimate + 2 items: the scan really read the vault.
  expect(dump.records).toBeGreaterThanOrEqual(3);
  expect(dump.text).toContain('agentConfig');
  expectNoneOf(dump.text, KNOWN);
});

test('stays unlocked when the service worker is stopped; auto-locks after the idle time', async ({
  context,
  openPopup,
  openVault,
  serviceWorker,
}) => {
  const vault = await openVault();
  await createVault(vault, PASSPHRASE, 'floor');
  await addSecret(vault, SECRET);

  // Mark the running worker's memory, then stop it the way Chrome does when it is idle.
  await serviceWorker.evaluate(() => ((globalThis as { e2eMarker?: number }).e2eMarker = 1));
  const cdp = await context.newCDPSession(vault);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');

  const popup = await openPopup();
  await expect(popup.getByText('Unlocked', { exact: true })).toBeVisible();
  // The worker that answered is a new one with empty module memory: only storage.session kept the key.
  expect(await serviceWorker.evaluate(() => (globalThis as { e2eMarker?: number }).e2eMarker)).toBeUndefined();
  await vault.reload();
  await expectSecretIntact(vault, SECRET);

  // Shortest custom idle time: 0.1 min = 6 s. Then leave everything idle.
  await vault.getByRole('tab', { name: 'Settings' }).click();
  await vault.getByLabel('Custom (minutes)').fill('0.1');
  await expect(vault.getByText(/Locks after 0\.1 minutes? idle/)).toBeVisible();
  await popup.reload();
  await expect(popup.getByText('Unlocked', { exact: true })).toBeVisible();
  await expect(popup.getByText('Locked', { exact: true })).toBeVisible({ timeout: 20_000 });
  await expect(popup.getByLabel('Passphrase', { exact: true })).toBeVisible();
  await expect(vault.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
  // Locking wiped the key from session storage too.
  const sessionStore = await serviceWorker.evaluate(() => {
    const api = (globalThis as unknown as { chrome: { storage: { session: { get(k: null): Promise<object> } } } })
      .chrome;
    return api.storage.session.get(null);
  });
  expect(sessionStore).toEqual({});
});

test('export -> wipe -> import restores identical items; a wrong backup passphrase changes nothing', async ({
  openVault,
}) => {
  const vault = await openVault();
  await createVault(vault, PASSPHRASE, 'floor');
  await addSecret(vault, SECRET);
  await addAgentConfig(vault, AGENT);

  await vault.getByRole('tab', { name: 'Backup' }).click();
  await vault.getByLabel('New backup passphrase', { exact: true }).fill('backup-pass-e2e');
  await vault.getByLabel('Repeat new backup passphrase').fill('backup-pass-e2e');
  const downloading = vault.waitForEvent('download');
  await vault.getByRole('button', { name: 'Export backup' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^clawkeep-backup-\d{4}-\d{2}-\d{2}\.ckbk$/);
  const file = await download.path();
  const bytes = readFileSync(file);
  expect(bytes.subarray(0, 4).toString('latin1')).toBe('CKBK');
  expectNoneOf(bytes.toString('latin1'), KNOWN);

  // Wipe: delete every item.
  await vault.getByRole('tab', { name: 'Items' }).click();
  for (const name of [SECRET.name, AGENT.name]) {
    await vault
      .getByRole('list', { name: 'Items' })
      .getByRole('button', { name: new RegExp(name) })
      .click();
    await vault.getByRole('button', { name: 'Delete' }).click();
    await vault.getByRole('button', { name: 'Yes, delete' }).click();
  }
  await expect(vault.getByRole('list', { name: 'Items' }).getByRole('button')).toHaveCount(0);

  await vault.getByRole('tab', { name: 'Backup' }).click();
  await vault.getByLabel('Backup file').setInputFiles(file);
  await vault.getByLabel('Backup passphrase', { exact: true }).fill('wrong-backup-pass');
  await vault.getByRole('button', { name: 'Import backup' }).click();
  await expect(vault.getByRole('alert')).toContainText('Wrong backup passphrase');
  await vault.getByRole('tab', { name: 'Items' }).click();
  await expect(vault.getByRole('list', { name: 'Items' }).getByRole('button')).toHaveCount(0);

  await vault.getByRole('tab', { name: 'Backup' }).click();
  await vault.getByLabel('Backup file').setInputFiles(file);
  await vault.getByLabel('Backup passphrase', { exact: true }).fill('backup-pass-e2e');
  await vault.getByRole('button', { name: 'Import backup' }).click();
  await expect(vault.getByText('Backup imported: 2 added, 0 kept newer, 0 replaced, 0 unchanged.')).toBeVisible();
  await vault.getByRole('tab', { name: 'Items' }).click();
  await expectSecretIntact(vault, SECRET);
  await expectAgentConfigIntact(vault, AGENT);
});

test('web vault: key in page memory only, data in its origin IndexedDB as ciphertext', async ({
  context,
  webVault,
}) => {
  const page = await context.newPage();
  await page.goto(webVault.url);
  await expect(page).toHaveTitle(/Clawkeep web vault/);
  await createVault(page, PASSPHRASE, 'floor');
  await addSecret(page, SECRET);
  await addAgentConfig(page, AGENT);

  const dump = await dumpIndexedDb(page);
  expect(dump.databases).toContain('clawkeep-vault');
  expect(dump.records).toBeGreaterThanOrEqual(3);
  expectNoneOf(dump.text, KNOWN);

  // A reload drops the page-held key: locked until the passphrase is typed again.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
  await unlock(page, 'wrong one');
  await expect(page.getByRole('alert')).toContainText('Wrong passphrase');
  await unlock(page, PASSPHRASE);
  await expectSecretIntact(page, SECRET);
  await expectAgentConfigIntact(page, AGENT);
});
