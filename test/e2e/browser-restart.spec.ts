import { rmSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { extensionServiceWorker, launchWithExtension } from './fixtures';
import { addSecret, createVault, expectSecretIntact, PASSPHRASE, unlock } from './helpers';

test('a browser restart locks the vault; the passphrase opens it again with data intact', async () => {
  const secret = { name: 'Survives restart', value: 'restart-value-e2e', notes: 'persisted ciphertext', tags: '' };
  const first = await launchWithExtension();
  try {
    const id = new URL((await extensionServiceWorker(first.context)).url()).host;
    const page = await first.context.newPage();
    await page.goto(`chrome-extension://${id}/vault.html`);
    await createVault(page);
    await addSecret(page, secret);
    await first.context.close();

    const second = await launchWithExtension(first.profileDir);
    try {
      const popup = await second.context.newPage();
      await popup.goto(`chrome-extension://${id}/popup.html`);
      await expect(popup.getByText('Locked', { exact: true })).toBeVisible();
      const vault = await second.context.newPage();
      await vault.goto(`chrome-extension://${id}/vault.html`);
      await expect(vault.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
      await unlock(vault, PASSPHRASE);
      await expectSecretIntact(vault, secret);
    } finally {
      await second.context.close();
    }
  } finally {
    rmSync(first.profileDir, { recursive: true, force: true });
  }
});

test('"Open vault" in the popup opens the vault page in a tab', async () => {
  const { context, profileDir } = await launchWithExtension();
  try {
    const id = new URL((await extensionServiceWorker(context)).url()).host;
    const popup = await context.newPage();
    await popup.goto(`chrome-extension://${id}/popup.html`);
    const opened = context.waitForEvent('page');
    await popup.getByRole('button', { name: 'Open vault' }).click();
    const vault = await opened;
    await expect(vault).toHaveURL(`chrome-extension://${id}/vault.html`);
    await expect(vault.getByRole('button', { name: 'Create vault' })).toBeVisible();
  } finally {
    await context.close();
    rmSync(profileDir, { recursive: true, force: true });
  }
});
