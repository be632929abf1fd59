// Debian's Firefox ESR with the built Firefox add-on (.output/firefox-mv2), driven over WebDriver BiDi by
// puppeteer-core. Playwright cannot drive a stock Firefox (it needs its own patched build), so the Firefox runs use
// puppeteer-core: it speaks BiDi to the stock binary, needs no geckodriver, and installs the unpacked build as a
// temporary add-on (`Browser.installExtension` → BiDi `webExtension.install`).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIREFOX_EXTENSION_DIR = path.join(ROOT, '.output', 'firefox-mv2');
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
/** The add-on id from wxt.config.ts (browser_specific_settings.gecko.id). */
export const ADDON_ID = 'clawkeep@clawkeep.dev';
/**
 * The add-on's internal UUID (the host of its moz-extension: URLs). Firefox picks a random one per profile unless the
 * `extensions.webextensions.uuids` pref (a JSON map add-on id → UUID) already names one, so the test sets it.
 */
export const ADDON_UUID = '6c2c3b4e-1f0a-4c8e-9d3a-2b7f5e8a9c10';
export const ORIGIN = `moz-extension://${ADDON_UUID}`;

export interface FirefoxRun {
  browser: Browser;
  /** Closes Firefox and removes the profile and HOME it ran with. */
  close: () => Promise<void>;
}

/** Starts Firefox ESR headless on a fresh profile and installs the built add-on as a temporary add-on. */
export async function launchFirefox(): Promise<FirefoxRun> {
  if (!existsSync(path.join(FIREFOX_EXTENSION_DIR, 'manifest.json'))) {
    throw new Error(`no Firefox build in ${FIREFOX_EXTENSION_DIR}: run \`npm run build:firefox\` first`);
  }
  if (!existsSync(FIREFOX_PATH)) {
    throw new Error(`no Firefox at ${FIREFOX_PATH}: apt-get install -y firefox-esr, or set FIREFOX_PATH`);
  }
  // A throwaway HOME too: CI runs as root, whose HOME may be missing or shared; Firefox writes caches under it.
  const home = mkdtempSync(path.join(tmpdir(), 'clawkeep-firefox-home-'));
  const profile = mkdtempSync(path.join(tmpdir(), 'clawkeep-firefox-profile-'));
  // CLAWKEEP_FIREFOX_DUMPIO=1: Firefox's own output and every console message (the add-on's background page too).
  const dumpio = process.env.CLAWKEEP_FIREFOX_DUMPIO === '1';
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    userDataDir: profile,
    env: { ...process.env, HOME: home },
    // WebDriver BiDi refuses to navigate a tab to a moz-extension: URL ("not allowed in this context") unless the
    // remote agent may reach privileged pages; this flag (Firefox 138+) allows it, for this test browser only.
    args: ['--remote-allow-system-access'],
    dumpio,
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [ADDON_ID]: ADDON_UUID }),
      ...(dumpio && { 'devtools.console.stdout.content': true, 'devtools.console.stdout.chrome': true }),
    },
  });
  try {
    const id = await browser.installExtension(FIREFOX_EXTENSION_DIR);
    if (id !== ADDON_ID) throw new Error(`installed add-on ${id}, expected ${ADDON_ID}`);
  } catch (err) {
    await browser.close();
    throw err;
  }
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` every 100 ms until it returns something other than null/undefined/false; throws naming `what`. */
export async function until<T>(
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  what: string,
  ms = 15_000,
): Promise<T> {
  const t0 = Date.now();
  let last: Error | null = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err)); // the page may be navigating; try again
    }
    if (Date.now() - t0 > ms)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(100);
  }
}

/**
 * Opens one of the add-on's pages (vault.html, popup.html) in a new tab. Puppeteer does not see a BiDi navigation
 * into the add-on's process finish, so this waits for the document itself instead.
 */
export async function openExtensionPage(browser: Browser, page: string): Promise<Page> {
  const tab = await browser.newPage();
  const url = `${ORIGIN}/${page}`;
  await tab.goto(url, { timeout: 1_000 }).catch(() => undefined);
  await until(
    () => tab.evaluate((u) => location.href === u && document.readyState === 'complete', url),
    `${page} to load`,
  );
  return tab;
}

/** What a control is found by: its role and accessible name (like Testing Library's getByRole), or its label. */
export type Query =
  | { role: 'button' | 'checkbox' | 'tab' | 'region' | 'group' | 'list' | 'status' | 'alert'; name?: string | RegExp }
  | { label: string | RegExp };

/**
 * The first visible element matching `query` (inside the first visible element matching `within`, if given), waiting
 * for it. A small accessible-name rule (aria-label, aria-labelledby, <label>, then text), enough for our own pages.
 */
export async function find(page: Page, query: Query, within?: Query, ms = 15_000): Promise<ElementHandle<Element>> {
  const serial = (q: Query) => {
    const name = 'label' in q ? q.label : q.name;
    return {
      role: 'role' in q ? q.role : null,
      text: name === undefined ? null : typeof name === 'string' ? name : null,
      re: name instanceof RegExp ? { source: name.source, flags: name.flags } : null,
    };
  };
  const handle = await until(
    async () => {
      const h = await page.evaluateHandle(
        (q, w) => {
          type Q = { role: string | null; text: string | null; re: { source: string; flags: string } | null };
          const norm = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
          const nameOf = (el: Element): string => {
            const aria = el.getAttribute('aria-label');
            if (aria) return norm(aria);
            const by = el.getAttribute('aria-labelledby');
            if (by)
              return norm(
                by
                  .split(/\s+/)
                  .map((id) => document.getElementById(id)?.textContent ?? '')
                  .join(' '),
              );
            const labels = (el as HTMLInputElement).labels;
            if (labels?.length) return norm(Array.from(labels, (l) => l.textContent).join(' '));
            return norm(el.textContent);
          };
          const roleOf = (el: Element): string | null => {
            const explicit = el.getAttribute('role');
            if (explicit) return explicit;
            const tag = el.tagName.toLowerCase();
            if (tag === 'button') return 'button';
            if (tag === 'input' && (el as HTMLInputElement).type === 'checkbox') return 'checkbox';
            if (tag === 'input' && ['button', 'submit'].includes((el as HTMLInputElement).type)) return 'button';
            if (tag === 'ul' || tag === 'ol') return 'list';
            if (tag === 'output') return 'status';
            if (tag === 'fieldset') return 'group';
            if (tag === 'section' && el.hasAttribute('aria-label')) return 'region';
            return null;
          };
          const matches = (el: Element, spec: Q): boolean => {
            if (!el.checkVisibility()) return false;
            if (spec.role !== null) {
              if (roleOf(el) !== spec.role) return false;
            } else if (!['input', 'textarea', 'select'].includes(el.tagName.toLowerCase())) return false;
            const name = nameOf(el);
            if (spec.text !== null) return name === spec.text;
            if (spec.re) return new RegExp(spec.re.source, spec.re.flags).test(name);
            return true;
          };
          const first = (root: ParentNode, spec: Q) =>
            Array.from(root.querySelectorAll('*')).find((el) => matches(el, spec));
          const scope = w ? first(document, w) : document;
          return scope ? (first(scope, q) ?? null) : null;
        },
        serial(query),
        within ? serial(within) : null,
      );
      const el = h.asElement() as ElementHandle<Element> | null;
      if (!el) await h.dispose();
      return el;
    },
    `${JSON.stringify(query)}${within ? ` in ${JSON.stringify(within)}` : ''}`,
    ms,
  );
  return handle;
}

/** Clicks the control (a trusted pointer click through BiDi input actions). */
export async function click(page: Page, query: Query, within?: Query): Promise<void> {
  const el = await find(page, query, within);
  await el.click();
  await el.dispose();
}

/**
 * Clicks an approving control once it is armed: it ignores input for a moment after it appears or moves (aria-disabled
 * meanwhile; components/shared/input-arming.ts), as a person sees it, so the click waits for that.
 */
export async function clickArmed(page: Page, query: Query, within?: Query): Promise<void> {
  const el = await find(page, query, within);
  await until(() => el.evaluate((e) => !e.hasAttribute('aria-disabled')), `${JSON.stringify(query)} to be armed`);
  await el.click();
  await el.dispose();
}

/** Replaces what the field holds with `text`, typed with real key events (select all, Backspace, then the keys). */
export async function type(page: Page, query: Query, text: string, within?: Query): Promise<void> {
  const el = await find(page, query, within);
  await el.focus();
  if (await el.evaluate((e) => (e as HTMLInputElement).value !== '')) {
    await el.evaluate((e) => (e as HTMLInputElement).select());
    await page.keyboard.press('Backspace');
  }
  await el.type(text);
  await el.dispose();
}

/** The visible text of the page, or of the first element matching `within`. */
export async function textOf(page: Page, within?: Query): Promise<string> {
  if (!within) return page.evaluate(() => document.body.innerText);
  const el = await find(page, within);
  const text = await el.evaluate((e) => (e as HTMLElement).innerText);
  await el.dispose();
  return text;
}

/** Waits until the page (or `within`) shows `text`. */
export async function waitForText(page: Page, text: string, within?: Query, ms = 15_000): Promise<void> {
  await until(async () => (await textOf(page, within)).includes(text), `the text "${text}"`, ms);
}

/** The open tab or window showing the add-on's `page` (e.g. approval.html), if any. */
export async function pageAt(browser: Browser, page: string): Promise<Page | null> {
  for (const p of await browser.pages()) {
    // Puppeteer's cached url() can lag behind a navigation into the add-on's process: ask the document.
    const href = await p.evaluate(() => location.href).catch(() => '');
    if (href.startsWith(`${ORIGIN}/${page}`)) return p;
  }
  return null;
}

/**
 * CLAWKEEP_FIREFOX_SCREENSHOTS=<dir>: saves `page` at `width` px (full page) as <dir>/<name>-<width>.png, to look at what
 * Firefox rendered. Does nothing otherwise (the runs stay lean in CI).
 */
export async function screenshotIfAsked(page: Page, name: string, widths = [360, 1280]): Promise<void> {
  const dir = process.env.CLAWKEEP_FIREFOX_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  for (const width of widths) {
    await page.setViewport({ width, height: 800 });
    await page.screenshot({ path: path.join(dir, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewport({ width: 1280, height: 800 });
}

/** The toolbar button's badge text (Firefox MV2: browserAction), read from one of the add-on's pages. */
export function badgeText(page: Page): Promise<string> {
  return page.evaluate(() =>
    (
      globalThis as unknown as { browser: { browserAction: { getBadgeText(d: object): Promise<string> } } }
    ).browser.browserAction.getBadgeText({}),
  );
}
