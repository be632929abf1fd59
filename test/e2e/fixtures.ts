import { rmSync } from 'node:fs';
import { test as base, expect, type BrowserContext, type Page, type Worker } from '@playwright/test';
import { startWebServer } from '../../bin/web-server';
import { EXTENSION_DIR, WEB_DIR, extensionServiceWorker, launchWithExtension } from './launch-extension';

export {
  CHROMIUM_PATH,
  EXTENSION_DIR,
  TEST_EXTENSION_DIR,
  WEB_DIR,
  extensionServiceWorker,
  launchWithExtension,
} from './launch-extension';

export interface ExtensionFixtures {
  /** The unpacked build to load: EXTENSION_DIR (production) unless a spec uses TEST_EXTENSION_DIR. */
  extensionDir: string;
  /** More Chromium flags for this test's browser (launchWithExtension's `extraArgs`); none by default. */
  chromiumArgs: string[];
  /** Persistent Chromium context with the extension loaded (replaces Playwright's default context). */
  context: BrowserContext;
  /** The background service worker; `serviceWorker.evaluate(...)` runs code in it. */
  serviceWorker: Worker;
  /** The unpacked extension's id, read from the service worker URL. */
  extensionId: string;
  /** Opens `chrome-extension://<id>/<page>` (e.g. 'popup.html', 'vault.html#/items') in a new tab. */
  openExtensionPage: (page: string) => Promise<Page>;
  openPopup: () => Promise<Page>;
  openVault: () => Promise<Page>;
  /** The built web vault (dist/web) served by bin/web-server.ts on 127.0.0.1 and a free port. */
  webVault: { url: string };
}

export const test = base.extend<ExtensionFixtures>({
  extensionDir: [EXTENSION_DIR, { option: true }],
  chromiumArgs: [[], { option: true }],
  context: async ({ extensionDir, chromiumArgs }, use) => {
    const { context, profileDir } = await launchWithExtension(undefined, extensionDir, chromiumArgs);
    try {
      await use(context);
    } finally {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    }
  },
  serviceWorker: async ({ context }, use) => {
    await use(await extensionServiceWorker(context));
  },
  extensionId: async ({ serviceWorker }, use) => {
    await use(new URL(serviceWorker.url()).host);
  },
  openExtensionPage: async ({ context, extensionId }, use) => {
    await use(async (page) => {
      const tab = await context.newPage();
      await tab.goto(`chrome-extension://${extensionId}/${page.replace(/^\//, '')}`);
      return tab;
    });
  },
  openPopup: async ({ openExtensionPage }, use) => {
    await use(() => openExtensionPage('popup.html'));
  },
  openVault: async ({ openExtensionPage }, use) => {
    await use(() => openExtensionPage('vault.html'));
  },
  // eslint-disable-next-line no-empty-pattern
  webVault: async ({}, use) => {
    const server = await startWebServer({ dir: WEB_DIR, port: 0 });
    try {
      await use({ url: server.url });
    } finally {
      await server.close();
    }
  },
});

export { expect };
