import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { addSecret, createVault, PASSPHRASE, shot, unlock } from './helpers';

// Issue 18, per-secret scope: "each secret may list the hosts it may be sent to (set in the item; https only)". The
// person writes the list in the secret editor; the detail view shows it; an http:// entry is refused and nothing is
// saved.

const HOSTS_LABEL = 'Allowed hosts (one per line)';

/** Every item's revision as stored (kept in the clear beside its envelope): a save that wrote moves one on. */
function storedRevisions(page: Page): Promise<number[]> {
  return page.evaluate(
    () =>
      new Promise<number[]>((resolve, reject) => {
        const open = indexedDB.open('clawkeep-vault');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('items').objectStore('items').getAll();
          req.onsuccess = () => {
            open.result.close();
            resolve((req.result as { revision: number }[]).map((r) => r.revision));
          };
          req.onerror = () => reject(req.error);
        };
      }),
  );
}

async function expectHosts(page: Page, name: string, hosts: string[]): Promise<void> {
  const detail = page.getByRole('article', { name });
  const list = detail.getByRole('listitem');
  await expect(list).toHaveText(hosts);
}

test('a secret lists the hosts it may be sent to: add two, see them, edit one, http:// refused with nothing saved', async ({
  openVault,
}) => {
  const vault = await openVault();
  await vault.setViewportSize({ width: 1280, height: 900 });
  await createVault(vault, PASSPHRASE, 'floor');
  await expect(vault.getByRole('button', { name: 'Lock now' })).toBeVisible({ timeout: 60_000 });

  // A secret saved without hosts says so: it is never sent in a call.
  await addSecret(vault, { name: 'Local only', value: 'local-only-e2e', notes: '', tags: '' });
  const items = vault.getByRole('list', { name: 'Items' });
  await items.getByRole('button', { name: /Local only/ }).click();
  await expect(vault.getByRole('article', { name: 'Local only' })).toContainText('None: never sent in a call');

  // Two hosts, written the ways a person might: a bare host and an address copied from the browser.
  await vault.getByRole('button', { name: 'Add secret' }).click();
  await vault.getByLabel('Name').fill('GitHub token');
  await vault.getByLabel('Value', { exact: true }).fill('ghp_allowed_hosts_e2e');
  const hostsBox = vault.getByLabel(HOSTS_LABEL);
  await expect(hostsBox).toHaveAccessibleDescription(
    'Hosts this secret may be sent to in approved HTTPS calls (https only), e.g. api.github.com. Empty: never sent in a call.',
  );
  await hostsBox.fill('API.github.com\nhttps://uploads.github.com/');
  await shot(vault, 'allowed-hosts-editor-new-1280');
  await vault.getByRole('button', { name: 'Save' }).click();
  await expectHosts(vault, 'GitHub token', ['api.github.com', 'uploads.github.com']);
  await shot(vault, 'allowed-hosts-detail-1280');

  // Edit one: uploads.github.com becomes api.stripe.com.
  await vault.getByRole('button', { name: 'Edit' }).click();
  await expect(hostsBox).toHaveValue('api.github.com\nuploads.github.com');
  await hostsBox.fill('api.github.com\napi.stripe.com');
  await vault.getByRole('button', { name: 'Save' }).click();
  await expectHosts(vault, 'GitHub token', ['api.github.com', 'api.stripe.com']);
  const saved = await storedRevisions(vault);
  expect(saved.sort()).toEqual([1, 2]);

  // http:// is refused with a message naming the entry; the box is marked; nothing is written.
  await vault.getByRole('button', { name: 'Edit' }).click();
  await hostsBox.fill('api.github.com\nhttp://example.com');
  await vault.getByRole('button', { name: 'Save' }).click();
  await expect(vault.getByRole('alert')).toHaveText(
    'Allowed host "http://example.com" is not https: a secret is only ever sent over https ' +
      '(to allow the https address, write "example.com").',
  );
  await expect(hostsBox).toHaveAttribute('aria-invalid', 'true');
  await shot(vault, 'allowed-hosts-editor-error-1280');
  await vault.setViewportSize({ width: 360, height: 800 });
  await shot(vault, 'allowed-hosts-editor-error-360');
  expect((await storedRevisions(vault)).sort()).toEqual([1, 2]);

  // Typing again clears the mark and the message; Cancel leaves the saved list as it was, which Lock now and a fresh unlock (the
  // item decrypted again from storage) read back.
  await hostsBox.fill('api.github.com\napi.stripe.com');
  await expect(hostsBox).not.toHaveAttribute('aria-invalid', 'true');
  await expect(vault.getByRole('alert')).toHaveCount(0);
  await shot(vault, 'allowed-hosts-editor-360');
  await vault.getByRole('button', { name: 'Cancel' }).click();
  await shot(vault, 'allowed-hosts-detail-360');
  await vault.getByRole('button', { name: 'Lock now' }).click();
  await unlock(vault, PASSPHRASE);
  await items.getByRole('button', { name: /GitHub token/ }).click();
  await expectHosts(vault, 'GitHub token', ['api.github.com', 'api.stripe.com']);
});
