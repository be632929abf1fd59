import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, chromium, expect, type BrowserContext, type Page, type Worker } from '@playwright/test';
import { startWebServer } from '../../bin/web-server';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EXTENSION_DIR = path.join(ROOT, '.output', 'chrome-mv3');
/** `wxt build --mode test`: the same extension with test trust anchors honoured (deploy specs vs the CVM simulator). */
export const TEST_EXTENSION_DIR = path.join(ROOT, '.output', 'chrome-mv3-test');
export const WEB_DIR = path.join(ROOT, 'dist', 'web');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launches Debian's Chromium headless with the unpacked extension. A persistent context is mandatory for
 * extensions; `headless: true` is Chromium's new headless mode, which loads them. Playwright's own
 * `--disable-extensions` / empty `--load-extension=` come first and our flags win.
 */
export async function launchWithExtension(
  existingProfileDir?: string,
  extensionDir = EXTENSION_DIR,
): Promise<{ context: BrowserContext; profileDir: string }> {
  if (!existsSync(path.join(extensionDir, 'manifest.json'))) {
    const how = extensionDir === TEST_EXTENSION_DIR ? 'npx wxt build --mode test' : 'npm run build:chrome';
    throw new Error(`no built extension in ${extensionDir}: run \`${how}\` first`);
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  }
  // Reusing a profile directory = restarting the same browser profile.
  const profileDir = existingProfileDir ?? mkdtempSync(path.join(tmpdir(), 'clawkeep-e2e-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  return { context, profileDir };
}

/** The extension's MV3 service worker (background), waiting for it if it has not registered yet. */
export async function extensionServiceWorker(context: BrowserContext): Promise<Worker> {
  const running = context.serviceWorkers().find((w) => w.url().startsWith('chrome-extension://'));
  return running ?? context.waitForEvent('serviceworker', { predicate: (w) => w.url().startsWith('chrome-extension://') });
}

export interface ExtensionFixtures {
  /** The unpacked build to load: EXTENSION_DIR (production) unless a spec uses TEST_EXTENSION_DIR. */
  extensionDir: string;
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
  context: async ({ extensionDir }, use) => {
    const { context, profileDir } = await launchWithExtension(undefined, extensionDir);
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
