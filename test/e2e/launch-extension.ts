import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Worker } from 'playwright-core';

// Launching Debian's Chromium with the unpacked extension, without Playwright Test: shared by the Playwright
// fixtures (test/e2e/fixtures.ts) and the Vitest-run OpenClaw tests (test/openclaw/).

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
  /** More Chromium flags, e.g. a host resolver rule and a test certificate's key for a hub off loopback. */
  extraArgs: readonly string[] = [],
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
      ...extraArgs,
    ],
  });
  return { context, profileDir };
}

/** The extension's MV3 service worker (background), waiting for it if it has not registered yet. */
export async function extensionServiceWorker(context: BrowserContext): Promise<Worker> {
  const running = context.serviceWorkers().find((w) => w.url().startsWith('chrome-extension://'));
  return (
    running ?? context.waitForEvent('serviceworker', { predicate: (w) => w.url().startsWith('chrome-extension://') })
  );
}
