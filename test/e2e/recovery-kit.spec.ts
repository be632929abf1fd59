import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { addSecret, dumpIndexedDb, PASSPHRASE } from './helpers';

const SECRET = { name: 'Stripe live key', value: 'sk_live_recovery_e2e_7c1d', notes: 'billing', tags: 'payments' };
const NEW_PASSPHRASE = 'harbor-quartz-meadow-77';
const NEWER_PASSPHRASE = 'violet-anchor-summit-19';

/** Makes a kit from the screen in front of the person: reads the 24 words, types them back, verifies. */
async function makeKit(vault: Page, button: 'Create recovery kit' | 'Regenerate recovery kit'): Promise<string[]> {
  await vault.getByRole('button', { name: button }).click();
  const list = vault.getByRole('list', { name: 'Recovery words' });
  await expect(list.getByRole('listitem')).toHaveCount(24);
  const words = (await list.getByRole('listitem').allTextContents()).map((w) => w.trim());
  expect(new Set(words).size).toBeGreaterThan(12);
  await vault.getByRole('button', { name: 'I wrote them down' }).click();
  // A wrong word is caught (checksum / word list), and nothing is verified.
  await vault
    .getByLabel('Recovery words')
    .fill([...words.slice(0, 23), words[23] === 'zoo' ? 'abandon' : 'zoo'].join(' '));
  await vault.getByRole('button', { name: 'Verify recovery kit' }).click();
  await expect(vault.getByRole('alert')).toContainText(/do not add up|do not open/);
  await vault.getByLabel('Recovery words').fill(words.map((w, i) => `${i + 1}. ${w}`).join('\n'));
  await vault.getByRole('button', { name: 'Verify recovery kit' }).click();
  await expect(vault.getByRole('status').filter({ hasText: 'Recovery kit verified' })).toBeVisible();
  await vault.getByRole('button', { name: 'Done' }).click();
  return words;
}

async function recover(vault: Page, words: string[], passphrase: string): Promise<void> {
  await vault.getByRole('button', { name: 'Forgot your passphrase?' }).click();
  await vault.getByLabel('Recovery words').fill(words.join(' '));
  await vault.getByLabel('New passphrase', { exact: true }).fill(passphrase);
  await vault.getByLabel('Repeat new passphrase').fill(passphrase);
  await vault.getByRole('button', { name: 'Recover vault' }).click();
}

test('recovery kit: made at creation and verified; opens the vault after a forgotten passphrase and sets a new one; a regenerated kit retires the old words', async ({
  openVault,
}) => {
  const vault = await openVault();
  await vault.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await vault.getByLabel('Repeat passphrase').fill(PASSPHRASE);
  await vault.getByLabel('Repeat passphrase').press('Enter');
  // The kit is offered right away.
  await expect(vault.getByRole('heading', { name: 'Create your recovery kit' })).toBeVisible();
  const words = await makeKit(vault, 'Create recovery kit');
  await addSecret(vault, SECRET);

  // The words are nowhere in storage, in any form a dump shows.
  const dump = await dumpIndexedDb(vault);
  expect(dump.text).not.toContain(words.join(' '));
  expect(dump.text).not.toContain(SECRET.value);

  // Forgotten passphrase: the words open the vault and set a new passphrase; the item is intact.
  await vault.getByRole('button', { name: 'Lock now' }).click();
  await recover(vault, words, NEW_PASSPHRASE);
  await expect(vault.getByRole('button', { name: 'Lock now' })).toBeVisible();
  await vault
    .getByRole('list', { name: 'Items' })
    .getByRole('button', { name: new RegExp(SECRET.name) })
    .click();
  await vault.getByRole('button', { name: 'Reveal' }).click();
  await expect(vault.getByText(SECRET.value, { exact: true })).toBeVisible();

  // The old passphrase no longer opens it; the new one does.
  await vault.getByRole('button', { name: 'Lock now' }).click();
  await vault.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await vault.getByLabel('Passphrase', { exact: true }).press('Enter');
  await expect(vault.getByRole('alert')).toContainText(/passphrase/i);
  await vault.getByLabel('Passphrase', { exact: true }).fill(NEW_PASSPHRASE);
  await vault.getByLabel('Passphrase', { exact: true }).press('Enter');
  await expect(vault.getByRole('button', { name: 'Lock now' })).toBeVisible();

  // Settings → regenerate: the old words stop working, the new ones work.
  await vault.getByRole('tab', { name: 'Settings' }).click();
  const kitCard = vault.getByRole('region', { name: 'Recovery kit' });
  await expect(kitCard).toContainText('Created');
  await kitCard.getByRole('button', { name: 'Regenerate recovery kit' }).click();
  await expect(vault.getByText('Your current recovery words stop working')).toBeVisible();
  const newWords = await makeKit(vault, 'Regenerate recovery kit');
  expect(newWords.join(' ')).not.toBe(words.join(' '));

  await vault.getByRole('button', { name: 'Lock now' }).click();
  await recover(vault, words, NEWER_PASSPHRASE);
  await expect(vault.getByRole('alert')).toContainText('do not open this vault');
  await vault.getByLabel('Recovery words').fill(newWords.join(' '));
  await vault.getByRole('button', { name: 'Recover vault' }).click();
  await expect(vault.getByRole('button', { name: 'Lock now' })).toBeVisible();
  await vault.getByRole('button', { name: 'Lock now' }).click();
  await vault.getByLabel('Passphrase', { exact: true }).fill(NEWER_PASSPHRASE);
  await vault.getByLabel('Passphrase', { exact: true }).press('Enter');
  await expect(vault.getByRole('button', { name: 'Lock now' })).toBeVisible();
});

test('skipping the recovery kit warns first; Settings and "Forgot your passphrase?" then say there is none', async ({
  openVault,
}) => {
  const vault = await openVault();
  await vault.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await vault.getByLabel('Repeat passphrase').fill(PASSPHRASE);
  await vault.getByLabel('Repeat passphrase').press('Enter');
  await vault.getByRole('button', { name: 'Skip for now' }).click();
  await expect(vault.getByRole('group', { name: 'Skip the recovery kit' })).toContainText(
    'a forgotten passphrase means this vault and everything in it is lost',
  );
  await vault.getByRole('button', { name: 'Skip without a kit' }).click();
  await expect(vault.getByRole('heading', { name: 'Create your recovery kit' })).toHaveCount(0);
  await vault.getByRole('tab', { name: 'Settings' }).click();
  await expect(vault.getByRole('region', { name: 'Recovery kit' })).toContainText('This vault has no recovery kit');
  await vault.getByRole('button', { name: 'Lock now' }).click();
  await vault.getByRole('button', { name: 'Forgot your passphrase?' }).click();
  await expect(
    vault.getByText('This vault has no recovery kit. Without the passphrase it cannot be opened.'),
  ).toBeVisible();
  await expect(vault.getByRole('button', { name: 'Recover vault' })).toBeDisabled();
  await vault.getByRole('button', { name: 'Back to unlock' }).click();
  await vault.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await vault.getByLabel('Passphrase', { exact: true }).press('Enter');
  await expect(vault.getByRole('button', { name: 'Lock now' })).toBeVisible();
});
