// Shared by the real-gateway tests that drive the built extension (playwright-core, no Playwright Test runner).
import type { BrowserContext, Page } from 'playwright-core';
import { extensionServiceWorker } from '../e2e/launch-extension';

export const PASSPHRASE = 'tangerine-orbit-velvet-42';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 100 ms; throws naming `what` after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Opens one of the extension's pages (vault.html, popup.html) in a new tab. */
export async function openExtensionPage(context: BrowserContext, extensionId: string, name: string): Promise<Page> {
  const p = await context.newPage();
  await p.goto(`chrome-extension://${extensionId}/${name}`);
  return p;
}

/** First run of the vault page: both passphrase fields, then Enter. */
export async function createVault(vault: Page): Promise<void> {
  await vault.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await vault.getByLabel('Repeat passphrase').fill(PASSPHRASE);
  await vault.getByLabel('Repeat passphrase').press('Enter');
}

/** The toolbar badge text, read in the background worker. */
export async function badgeText(context: BrowserContext): Promise<string> {
  return (await extensionServiceWorker(context)).evaluate(
    () => (globalThis as any).chrome.action.getBadgeText({}) as Promise<string>,
  );
}
