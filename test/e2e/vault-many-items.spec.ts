/**
 * Issue 17 goal 1: a large vault's Items list draws only the rows near the viewport, and every item stays reachable
 * (by scrolling, by keyboard, by search) in the vault page and in the 360 px popup; a record that does not
 * authenticate is reported, never shown. The items arrive the way a person's would: a backup file (built here with
 * the product's exportItemsToBackup) imported through the Backup tab.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from '@playwright/test';
import { randomBytes, utf8Encode } from '../../lib/bytes';
import { deriveKey } from '../../lib/crypto/kdf';
import { DEFAULT_PBKDF2, SALT_LENGTH } from '../../lib/crypto/kdf-params';
import { exportItemsToBackup } from '../../lib/vault/backup';
import type { VaultItem } from '../../lib/vault/types';
import { expect, test } from './fixtures';
import { createVault, PASSPHRASE, unlock } from './helpers';

const COUNT = 3_000;
const BACKUP_PASSPHRASE = 'many-items-backup-e2e';
const nameOf = (n: number): string => `Item ${String(n).padStart(4, '0')}`;

async function backupOfManyItems(): Promise<Buffer> {
  const base = Date.parse('2026-11-01T00:00:00Z');
  const items: VaultItem[] = Array.from({ length: COUNT }, (_, i) => ({
    id: randomUUID(),
    kind: 'secret',
    revision: 1,
    createdAt: base,
    // The highest numbers were changed last: they are the first screen while the whole list decrypts.
    updatedAt: base + i * 1000,
    fields: {
      name: nameOf(i + 1),
      value: `value-${i + 1}`,
      notes: '',
      tags: i % 4 ? [] : ['team'],
      expiresAt: null,
      allowedHosts: [],
    },
  }));
  const salt = randomBytes(SALT_LENGTH);
  const kek = await deriveKey(utf8Encode(BACKUP_PASSPHRASE), salt, DEFAULT_PBKDF2);
  return Buffer.from(exportItemsToBackup(items, { kdf: DEFAULT_PBKDF2, salt, kek, exportedAt: Date.now() }));
}

const list = (page: Page) => page.locator('ul[aria-label="Items"]');
const rows = (page: Page) => list(page).locator(':scope > li');

/** The whole list is in place: not busy, and its rows count every item. */
async function expectWholeList(page: Page): Promise<void> {
  await expect(list(page)).not.toHaveAttribute('aria-busy', 'true', { timeout: 60_000 });
  await expect(rows(page).first()).toHaveAttribute('aria-setsize', String(COUNT));
}

/** Few rows in the DOM whatever the vault's size; the last item reachable by scrolling to the end of the page. */
async function expectWindowedAndScrollable(page: Page): Promise<void> {
  expect(await rows(page).count()).toBeLessThan(80);
  await expect(rows(page).first()).toHaveAttribute('aria-posinset', '1');
  await expect(rows(page).first()).toContainText(nameOf(1));
  await expect(list(page).getByRole('button', { name: nameOf(COUNT) })).toHaveCount(0);
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await expect(list(page).getByRole('button', { name: nameOf(COUNT) })).toBeInViewport();
  expect(await rows(page).count()).toBeLessThan(80);
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(list(page).getByRole('button', { name: nameOf(1) })).toBeInViewport();
}

/** One Tab stop; End reaches the last item and Arrow Up the one before it, focused and scrolled into view. */
async function expectKeyboardReach(page: Page): Promise<void> {
  await list(page).locator('button[tabindex="0"]').focus();
  await page.keyboard.press('End');
  await expect(page.locator(':focus')).toContainText(nameOf(COUNT));
  await expect(page.locator(':focus')).toBeInViewport();
  await page.keyboard.press('ArrowUp');
  await expect(page.locator(':focus')).toContainText(nameOf(COUNT - 1));
  await expect(list(page).locator('button[tabindex="0"]')).toHaveCount(1);
  await page.keyboard.press('Home');
  await expect(page.locator(':focus')).toContainText(nameOf(1));
}

/** A new vault (Argon2id at its floor) holding the COUNT items of backupOfManyItems, imported through the Backup tab. */
async function importManyItems(vault: Page): Promise<void> {
  const file = await backupOfManyItems();
  await createVault(vault, PASSPHRASE, 'floor');
  await expect(vault.getByRole('button', { name: 'Add secret' })).toBeVisible({ timeout: 90_000 });
  await vault.getByRole('tab', { name: 'Backup' }).click();
  await vault
    .getByLabel('Backup file')
    .setInputFiles({ name: 'many.ckbk', mimeType: 'application/octet-stream', buffer: file });
  await vault.getByLabel('Backup passphrase', { exact: true }).fill(BACKUP_PASSPHRASE);
  await vault.getByRole('button', { name: 'Import backup' }).click();
  await expect(vault.getByText(`Backup imported: ${COUNT} added,`)).toBeVisible({ timeout: 120_000 });
}

test('3,000 items: windowed list, every item reachable by scrolling, keyboard and search; popup at 360 px too', async ({
  openVault,
  openPopup,
}, testInfo) => {
  test.setTimeout(300_000);
  const vault = await openVault();
  await vault.setViewportSize({ width: 1280, height: 800 });
  await importManyItems(vault);

  await vault.getByRole('tab', { name: 'Items' }).click();
  await expectWholeList(vault);
  await vault.screenshot({ path: testInfo.outputPath('items-desktop.png') });
  await expectWindowedAndScrollable(vault);
  await expectKeyboardReach(vault);

  // Search covers every item, including the ones never drawn.
  await vault.getByLabel('Search').fill(nameOf(COUNT - 1));
  await expect(rows(vault)).toHaveCount(1);
  await list(vault)
    .getByRole('button', { name: nameOf(COUNT - 1) })
    .click();
  await expect(vault.locator('#detail-title')).toHaveText(nameOf(COUNT - 1));
  await vault.getByLabel('Search').fill('team');
  await expect(rows(vault).first()).toHaveAttribute('aria-setsize', String(COUNT / 4));
  await vault.getByLabel('Search').fill('');

  // After an unlock the list comes back whole (first screen, then every item).
  await vault.getByRole('button', { name: 'Lock now' }).click();
  await unlock(vault, PASSPHRASE);
  await expectWholeList(vault);

  const popup = await openPopup();
  await popup.setViewportSize({ width: 360, height: 600 });
  await expectWholeList(popup);
  await popup.screenshot({ path: testInfo.outputPath('items-popup-360.png') });
  await expectWindowedAndScrollable(popup);
  await expectKeyboardReach(popup);
  await popup.getByLabel('Search vault').fill(nameOf(COUNT));
  await expect(rows(popup)).toHaveCount(1);
  await list(popup)
    .getByRole('button', { name: nameOf(COUNT) })
    .click();
  await expect(popup.getByRole('heading', { name: nameOf(COUNT) })).toBeVisible();
});

test('a record changed outside Clawkeep is reported and the list shows nothing of the vault', async ({ openVault }) => {
  test.setTimeout(300_000);
  const vault = await openVault();
  await importManyItems(vault);
  await vault.getByRole('button', { name: 'Lock now' }).click();

  // While locked, a local process flips one byte in the middle of the stored records (the vault's IndexedDB).
  await vault.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('clawkeep-vault');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const store = db.transaction('items', 'readwrite').objectStore('items');
    const keys = await new Promise<IDBValidKey[]>((resolve) => {
      const req = store.getAllKeys();
      req.onsuccess = () => resolve(req.result);
    });
    const key = keys[keys.length >> 1]!;
    const record = await new Promise<{ envelope: Uint8Array }>((resolve) => {
      const req = store.get(key);
      req.onsuccess = () => resolve(req.result as { envelope: Uint8Array });
    });
    record.envelope[record.envelope.length - 17]! ^= 0x01;
    await new Promise((resolve) => (store.put(record).onsuccess = resolve));
    db.close();
  });

  await unlock(vault, PASSPHRASE);
  await expect(vault.getByRole('alert')).toContainText('Could not decrypt');
  await expect(rows(vault)).toHaveCount(0);
});
