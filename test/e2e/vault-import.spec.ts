/**
 * Issue 15 must-show 3: a backup import never replaces newer data and says what it did; imports from Bitwarden JSON,
 * CSV and .env (fixtures in test/fixtures/imports/, provenance in its README) are previewed, then written on
 * confirm; a malformed file (truncated JSON, an unclosed CSV quote, a bad .env line) imports nothing.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { addSecret, createVault } from './helpers';

const FIXTURES = fileURLToPath(new URL('../fixtures/imports/', import.meta.url));

const items = (page: Page) => page.getByRole('list', { name: 'Items' });

async function openItem(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name: 'Items' }).click();
  await items(page)
    .getByRole('button', { name: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) })
    .first()
    .click();
}

/** Creates the vault and waits out its key derivation (Argon2id: slow on a loaded 2-core machine). */
async function newVault(page: Page): Promise<void> {
  await createVault(page);
  await expect(page.getByRole('button', { name: 'Add secret' })).toBeVisible({ timeout: 90_000 });
}

/** Opens an item and reveals its value; asserts what a person would read. */
async function expectValue(page: Page, name: string, value: string): Promise<void> {
  await openItem(page, name);
  await page.getByRole('button', { name: 'Reveal' }).first().click();
  await expect(page.getByText(value, { exact: true })).toBeVisible();
}

/** Chooses a file in "Import from another app" and asks for the preview. */
async function preview(page: Page, file: string): Promise<void> {
  await page.getByRole('tab', { name: 'Backup' }).click();
  const form = page.getByRole('form', { name: 'Import from another app' });
  await form.getByLabel('File to import').setInputFiles(FIXTURES + file);
  await form.getByRole('button', { name: 'Preview import' }).click();
}

test('export, edit an item, import the older backup: the edit survives and the report says so', async ({
  openVault,
}, testInfo) => {
  test.setTimeout(240_000);
  const vault = await openVault();
  await newVault(vault);
  await addSecret(vault, { name: 'GitHub token', value: 'ghp-before-e2e', notes: 'n', tags: '' });
  await addSecret(vault, { name: 'Stripe key', value: 'sk-stripe-e2e', notes: 'n', tags: '' });

  await vault.getByRole('tab', { name: 'Backup' }).click();
  await vault.getByLabel('New backup passphrase', { exact: true }).fill('backup-pass-e2e');
  await vault.getByLabel('Repeat new backup passphrase').fill('backup-pass-e2e');
  // Export and import each run the KDF (Argon2id, 64 MiB): slow on a loaded 2-core machine.
  const downloading = vault.waitForEvent('download', { timeout: 90_000 });
  await vault.getByRole('button', { name: 'Export backup' }).click();
  const backup = await (await downloading).path();

  // Since the backup: one item edited, one deleted.
  await openItem(vault, 'GitHub token');
  await vault.getByRole('button', { name: 'Edit' }).click();
  await vault.getByLabel('Value').fill('ghp-edited-after-backup-e2e');
  await vault.getByRole('button', { name: 'Save' }).click();
  await openItem(vault, 'Stripe key');
  await vault.getByRole('button', { name: 'Delete' }).click();
  await vault.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(items(vault).getByRole('button')).toHaveCount(1);

  await vault.getByRole('tab', { name: 'Backup' }).click();
  await vault.getByLabel('Backup file').setInputFiles(backup);
  await vault.getByLabel('Backup passphrase', { exact: true }).fill('backup-pass-e2e');
  await vault.getByRole('button', { name: 'Import backup' }).click();
  const report = vault.getByRole('status', { name: 'Backup import report' });
  await expect(report).toContainText('Backup imported: 1 added, 1 kept newer, 0 replaced, 0 unchanged.', {
    timeout: 90_000,
  });
  await expect(report.getByRole('listitem').filter({ hasText: 'GitHub token' })).toContainText(
    'kept: this vault’s version is newer than the backup’s',
  );
  await expect(report.getByRole('listitem').filter({ hasText: 'Stripe key' })).toContainText('added from the backup');
  await vault.setViewportSize({ width: 1280, height: 900 });
  await report.screenshot({ path: testInfo.outputPath('backup-report-1280.png') });
  await vault.setViewportSize({ width: 360, height: 800 });
  await vault.screenshot({ path: testInfo.outputPath('backup-report-360.png'), fullPage: true });
  await vault.setViewportSize({ width: 1280, height: 900 });

  await expectValue(vault, 'GitHub token', 'ghp-edited-after-backup-e2e');
  await expectValue(vault, 'Stripe key', 'sk-stripe-e2e');
});

test('Bitwarden JSON, CSV and .env imports are previewed, then imported on confirm', async ({
  openVault,
}, testInfo) => {
  const vault = await openVault();
  await newVault(vault);
  const form = vault.getByRole('form', { name: 'Import from another app' });

  await preview(vault, 'bitwarden-export.json');
  await expect(form.getByLabel('Format')).toHaveValue('bitwarden-json');
  await expect(form.getByRole('heading', { name: '6 items will be added' })).toBeVisible();
  const toAdd = form.getByRole('list', { name: 'Items to add' });
  await expect(toAdd.getByRole('listitem')).toHaveCount(6);
  await expect(toAdd.getByRole('listitem').filter({ hasText: 'GitHub — TOTP' })).toContainText(
    'the TOTP seed becomes its value',
  );
  await expect(form.getByRole('list', { name: 'Skipped entries' })).toContainText('Company Visa');
  // Previewing writes nothing.
  await vault.setViewportSize({ width: 1280, height: 900 });
  await form.screenshot({ path: testInfo.outputPath('import-preview-1280.png') });
  await vault.screenshot({ path: testInfo.outputPath('import-preview-page-1280.png'), fullPage: true });
  await vault.setViewportSize({ width: 360, height: 800 });
  await form.screenshot({ path: testInfo.outputPath('import-preview-360.png') });
  await vault.setViewportSize({ width: 1280, height: 900 });
  await vault.getByRole('tab', { name: 'Items' }).click();
  await expect(items(vault).getByRole('button')).toHaveCount(0);

  await preview(vault, 'bitwarden-export.json');
  await form.getByRole('button', { name: 'Import 6 items' }).click();
  await expect(form.getByRole('status')).toHaveText('Imported 6 items from the Bitwarden JSON export.');
  await form.screenshot({ path: testInfo.outputPath('import-done-1280.png') });
  await expectValue(vault, 'GitHub', 'fixture-gh-password-4f1c');
  await expectValue(vault, 'OpenAI API key', 'sk-fixture-secure-note-value-9b3e');

  await preview(vault, 'secrets.csv');
  await expect(form.getByLabel('Format')).toHaveValue('csv');
  await expect(form.getByRole('heading', { name: '3 items will be added' })).toBeVisible();
  await form.getByRole('button', { name: 'Import 3 items' }).click();
  await expect(form.getByRole('status')).toHaveText('Imported 3 items from the CSV (name, value, notes).');
  await expectValue(vault, 'Webhook signing secret', 'whsec_"quoted"_fixture');

  await preview(vault, 'sample.env');
  await expect(form.getByLabel('Format')).toHaveValue('dotenv');
  await expect(form.getByRole('heading', { name: '7 items will be added' })).toBeVisible();
  await expect(form.getByRole('list', { name: 'Items to add' })).toContainText('PRIVATE_KEY');
  await form.getByRole('button', { name: 'Import 7 items' }).click();
  await expect(form.getByRole('status')).toHaveText('Imported 7 items from the .env file.');
  await expectValue(vault, 'API_KEY', 'fixture-api-key-123');

  await vault.getByRole('tab', { name: 'Items' }).click();
  await expect(items(vault).getByRole('button')).toHaveCount(16);
});

test('a truncated or malformed file gets a clear error naming the line and imports nothing', async ({ openVault }) => {
  const vault = await openVault();
  await newVault(vault);
  const form = vault.getByRole('form', { name: 'Import from another app' });

  await preview(vault, 'bitwarden-export-truncated.json');
  await expect(form.getByRole('alert')).toContainText(/The JSON file ends too early at line \d+, column \d+/);
  await expect(form.getByRole('button', { name: /^Import \d+ item/ })).toHaveCount(0);

  await preview(vault, 'secrets-unclosed-quote.csv');
  await expect(form.getByRole('alert')).toContainText('quoted field that is never closed, starting on line 3');

  await preview(vault, 'bad-line.env');
  await expect(form.getByRole('alert')).toContainText('(line 2, column 6)');

  await vault.getByRole('tab', { name: 'Items' }).click();
  await expect(items(vault).getByRole('button')).toHaveCount(0);
});

test('the web vault shares the import: a CSV is previewed and imported there', async ({ context, webVault }) => {
  const page = await context.newPage();
  await page.goto(webVault.url);
  await newVault(page);
  await preview(page, 'secrets.csv');
  const form = page.getByRole('form', { name: 'Import from another app' });
  await expect(form.getByRole('heading', { name: '3 items will be added' })).toBeVisible();
  await form.getByRole('button', { name: 'Import 3 items' }).click();
  await expect(form.getByRole('status')).toHaveText('Imported 3 items from the CSV (name, value, notes).');
  await expectValue(page, 'Stripe live key', 'sk_live_fixture_51Hc');
});
