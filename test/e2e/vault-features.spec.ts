import { test, expect } from './fixtures';
import { addSecret, createVault, PASSPHRASE, unlock } from './helpers';

const isoDay = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

test('search, edit, expiry badges, copy to clipboard', async ({ openVault }) => {
  const vault = await openVault();
  await createVault(vault, PASSPHRASE, 'floor');
  await addSecret(vault, { name: 'GitHub deploy token', value: 'ghp_e2e_deploy', notes: 'ci', tags: 'ci, github' });
  await addSecret(vault, { name: 'OpenAI key', value: 'sk-e2e-openai', notes: 'agents', tags: 'llm' });

  const list = vault.getByRole('list', { name: 'Items' });
  await vault.getByLabel('Search').fill('github');
  await expect(list.getByRole('button')).toHaveCount(1);
  await expect(list.getByRole('button', { name: /GitHub deploy token/ })).toBeVisible();
  await vault.getByLabel('Search').fill('LLM');
  await expect(list.getByRole('button')).toHaveCount(1);
  await expect(list.getByRole('button', { name: /OpenAI key/ })).toBeVisible();
  await vault.getByLabel('Search').fill('');
  await expect(list.getByRole('button')).toHaveCount(2);

  // Edit: expiring in 3 days, then already expired.
  await list.getByRole('button', { name: /OpenAI key/ }).click();
  await vault.getByRole('button', { name: 'Edit' }).click();
  await vault.getByLabel('Expires').fill(isoDay(3));
  await vault.getByRole('button', { name: 'Save' }).click();
  await expect(list.getByRole('button', { name: /OpenAI key/ })).toContainText('Expiring soon');
  await list.getByRole('button', { name: /GitHub deploy token/ }).click();
  await vault.getByRole('button', { name: 'Edit' }).click();
  await vault.getByLabel('Expires').fill(isoDay(-2));
  await vault.getByLabel('Value').fill('ghp_e2e_rotated');
  await vault.getByRole('button', { name: 'Save' }).click();
  await expect(list.getByRole('button', { name: /GitHub deploy token/ })).toContainText('Expired');

  await list.getByRole('button', { name: /GitHub deploy token/ }).click();
  await vault.getByRole('button', { name: 'Copy' }).click();
  await expect(vault.getByText('Copied — clears in 30 s')).toBeVisible();
  // Read the clipboard the way a user would: paste it somewhere.
  await vault.getByLabel('Search').focus();
  await vault.keyboard.press('ControlOrMeta+V');
  await expect(vault.getByLabel('Search')).toHaveValue('ghp_e2e_rotated');
});

test('KDF settings: measure, switch to PBKDF2, unlock with it; change passphrase', async ({ openVault }) => {
  const vault = await openVault();
  await createVault(vault);
  await addSecret(vault, { name: 'Kept across changes', value: 'kept-value-e2e', notes: 'n', tags: '' });

  await vault.getByRole('tab', { name: 'Settings' }).click();
  await vault.getByLabel('Algorithm').selectOption({ label: 'PBKDF2-SHA256' });
  await vault.getByRole('button', { name: 'Measure' }).click();
  await expect(vault.getByText(/Unlock will take about \d+ ms/)).toBeVisible();
  await vault.getByLabel('Confirm with current passphrase').fill(PASSPHRASE);
  await vault.getByRole('button', { name: 'Save KDF settings' }).click();
  await expect(vault.getByText(/Saved: PBKDF2-SHA256, 600,000 iterations/)).toBeVisible();
  await expect(vault.getByText(/Currently: PBKDF2-SHA256/)).toBeVisible();

  await vault.getByLabel('Current passphrase', { exact: true }).fill('not the current one');
  await vault.getByLabel('New passphrase', { exact: true }).fill('brand-new-passphrase-e2e');
  await vault.getByLabel('Repeat new passphrase').fill('brand-new-passphrase-e2e');
  await vault.getByRole('button', { name: 'Change passphrase' }).click();
  await expect(vault.getByRole('alert')).toContainText('Wrong passphrase');
  await vault.getByLabel('Current passphrase', { exact: true }).fill(PASSPHRASE);
  await vault.getByRole('button', { name: 'Change passphrase' }).click();
  await expect(vault.getByText('Passphrase changed.')).toBeVisible();

  await vault.getByRole('button', { name: 'Lock now' }).click();
  await unlock(vault, PASSPHRASE);
  await expect(vault.getByRole('alert')).toContainText('Wrong passphrase');
  await unlock(vault, 'brand-new-passphrase-e2e');
  await vault
    .getByRole('list', { name: 'Items' })
    .getByRole('button', { name: /Kept across changes/ })
    .click();
  await vault.getByRole('button', { name: 'Reveal' }).click();
  await expect(vault.getByText('kept-value-e2e', { exact: true })).toBeVisible();
});
