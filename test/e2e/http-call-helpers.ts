import type { BrowserContext, Page } from '@playwright/test';
import { startHttpsTarget, type HttpsTarget } from '../support/https-target';
import { expect, test as hubTest } from './hub';

// Shared by the issue 18 specs (http-request.spec.ts, http-rules.spec.ts): what the person does in the browser
// before an agent's call can be made.

type DeveloperPrivate = { addHostPermission(id: string, host: string): Promise<void> };

/**
 * Headless Chromium cannot show the permission prompt the Approve click raises: allowing the site first through
 * chrome://extensions' own API (what the person does under Site access) is how a test says "Allow"; the click's
 * `permissions.request` then finds it granted and resolves true at once.
 */
export async function allowSite(context: BrowserContext, extensionId: string, site: string): Promise<void> {
  const page = await context.newPage();
  try {
    await page.goto('chrome://extensions/');
    await page.evaluate(
      async ([id, s]) => {
        const dev = (globalThis as unknown as { chrome: { developerPrivate: DeveloperPrivate } }).chrome
          .developerPrivate;
        await dev.addHostPermission(id, s);
      },
      [extensionId, site] as const,
    );
  } finally {
    await page.close();
  }
}

/** Opens the secret in the vault page and sets its allowed hosts. */
export async function setAllowedHosts(vault: Page, name: string, hosts: string[]): Promise<void> {
  await vault.getByRole('tab', { name: 'Items' }).click();
  await vault
    .getByRole('button', { name: new RegExp(name) })
    .first()
    .click();
  await vault.getByRole('button', { name: 'Edit' }).click();
  await vault.getByLabel('Allowed hosts').fill(hosts.join('\n'));
  await vault.getByRole('button', { name: 'Save' }).click();
  await expect(vault.getByText(hosts[0]!)).toBeVisible();
}

/**
 * The spec's HTTPS target (test/support/https-target.ts) for `names`, started once for the spec, and the hub test
 * whose Chromium resolves those names to it and accepts its certificate. `target()` is valid inside tests.
 */
export function withHttpsTarget(names: readonly string[]) {
  let target: HttpsTarget | null = null;
  hubTest.beforeAll(async () => {
    target = await startHttpsTarget(names);
  });
  hubTest.afterAll(async () => {
    await target?.close();
  });
  const test = hubTest.extend({
    // eslint-disable-next-line no-empty-pattern
    chromiumArgs: async ({}, use) => {
      await use(target!.chromiumArgs);
    },
  });
  return { test, target: () => target! };
}
