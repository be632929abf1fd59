// The built extension (.output/chrome-mv3, `npx wxt build`) as an OpenClaw operator against a real gateway, in
// Debian Chromium via playwright-core (`npm run test:openclaw` only). Settings → OpenClaw gateway (URL + token,
// stored in the vault) → CONTROL_UI_ORIGIN_NOT_ALLOWED: the status names the `openclaw config set …allowedOrigins`
// command, the test runs exactly that → PAIRING_REQUIRED (silent local pairing off) → `openclaw devices approve
// <id>` → connected without a click → a real agent `exec` raises exec.approval.requested → the approval window
// opens and the badge counts it → "Allow once" runs the command (the window closes) → from the popup, "Deny" makes
// OpenClaw report the denial → after an MV3 worker stop the background reconnects by itself.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHROMIUM_PATH, extensionServiceWorker, launchWithExtension } from '../e2e/launch-extension';
import { badgeText, createVault, openExtensionPage, sleep, until } from './extension-helpers';
// @ts-expect-error -- plain ESM helpers without type declarations
import { startOpenClaw } from './harness/index.mjs';
// @ts-expect-error -- plain ESM helpers without type declarations
import { connectClient } from './harness/smoke-client.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXTENSION_DIR = process.env.CLAWKEEP_EXTENSION_DIR ?? path.join(ROOT, '.output', 'chrome-mv3');

let oc: any;
let sender: any;
let context: BrowserContext | null = null;
let profileDir: string | null = null;
let extensionId = '';

const serviceWorker = extensionServiceWorker;

const badge = badgeText;

/** The agent's tool result for the turn whose user message carried `marker`, as the mock model received it. */
async function toolResult(marker: string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    for (const r of oc.mock.requests()) {
      const msgs: any[] = r.body?.messages ?? [];
      if (!msgs.some((m) => typeof m.content === 'string' && m.content.includes(marker))) continue;
      const tool = msgs.find((m) => m.role === 'tool');
      if (tool) return typeof tool.content === 'string' ? tool.content : JSON.stringify(tool.content);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no tool result for ${marker}`);
}

async function runAgent(marker: string, command: string): Promise<void> {
  const sent = await sender.request('chat.send', {
    sessionKey: `agent:main:${marker}`,
    message: `[${marker}] RUN: ${command}`,
    idempotencyKey: `${marker}-${Date.now()}`,
  });
  expect(sent.ok).toBe(true);
}

beforeAll(async () => {
  if (!existsSync(path.join(EXTENSION_DIR, 'manifest.json')))
    throw new Error(`no built extension in ${EXTENSION_DIR}: run \`npx wxt build\` first`);
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}`);
  // No origin allowlisted yet: the extension must explain the one config command, and the test runs exactly that.
  oc = await startOpenClaw();
  // The test's own clients pair silently first (the chat sender; the CLI through `devices list`); then local devices
  // stop being paired silently (hot reload), so the extension must go through PAIRING_REQUIRED → `devices approve`.
  sender = await connectClient({
    url: oc.gatewayUrl,
    token: oc.token,
    scopes: ['operator.read', 'operator.write', 'operator.approvals'],
  });
  const listed = await oc.openclaw(['devices', 'list']);
  expect(listed.code, `${listed.stdout}${listed.stderr}`.replaceAll(oc.token, '<token>')).toBe(0);
  const strict = await oc.openclaw([
    'config',
    'set',
    'gateway.nodes.pairing.autoApproveLocal',
    'false',
    '--strict-json',
  ]);
  expect(strict.code, `${strict.stdout}${strict.stderr}`.replaceAll(oc.token, '<token>')).toBe(0);
  ({ context, profileDir } = await launchWithExtension(undefined, EXTENSION_DIR));
  extensionId = new URL((await serviceWorker(context)).url()).host;
});

afterAll(async () => {
  await context?.close().catch(() => {});
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await sender?.close();
  await oc?.stop();
});

/** Every IndexedDB record of the extension's origin (bytes as latin1) plus chrome.storage.local and .session, as text. */
async function rawStorage(p: Page): Promise<{ records: number; text: string }> {
  return p.evaluate(async () => {
    const toText = (_k: string, v: unknown): unknown => {
      if (!(v instanceof Uint8Array || v instanceof ArrayBuffer)) return v;
      let latin1 = '';
      for (const b of v instanceof Uint8Array ? v : new Uint8Array(v)) latin1 += String.fromCharCode(b);
      return latin1;
    };
    const req = <T>(r: IDBRequest<T>) =>
      new Promise<T>(
        (resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))),
      );
    const parts: string[] = [];
    let records = 0;
    for (const info of await indexedDB.databases()) {
      const db = await req(indexedDB.open(info.name!));
      for (const store of Array.from(db.objectStoreNames)) {
        const rows = await req(db.transaction(store).objectStore(store).getAll());
        records += rows.length;
        for (const row of rows) parts.push(JSON.stringify(row, toText));
      }
      db.close();
    }
    const chromeStorage = (globalThis as any).chrome.storage;
    parts.push(
      JSON.stringify(await chromeStorage.local.get(null)),
      JSON.stringify(await chromeStorage.session.get(null)),
    );
    return { records, text: parts.join('\n') };
  });
}

const page = (name: string): Promise<Page> => openExtensionPage(context!, extensionId, name);

test('Settings → the origin refusal and the pairing request each name the command that fixes them; approve a real agent command in the approval window, deny one from the popup; reconnect after a worker stop', async () => {
  const vault = await page('vault.html');
  await createVault(vault);
  await vault.getByRole('tab', { name: 'Settings' }).click({ timeout: 60_000 });
  await vault.getByLabel('Gateway address').fill(oc.gatewayUrl);
  await vault.getByLabel('Gateway token').fill(oc.token);
  // The agent runs below are started by another device: seeing them needs operator.admin, which is opt-in.
  await vault.getByLabel(/Approve every agent/).check();
  await vault.getByRole('button', { name: 'Connect', exact: true }).click();
  const status = vault.getByRole('status', { name: 'OpenClaw status' });
  const statusText = async () => (await status.textContent()) ?? '';

  // The gateway refuses the extension's origin: the status names the exact command; run it, then "Reconnect".
  await until(async () => (await statusText()).includes('allowedOrigins'), 30_000, 'the origin refusal');
  const refused = await statusText();
  expect(refused).toContain(`chrome-extension://${extensionId}`);
  expect(refused).not.toContain(oc.token);
  const allow = /`openclaw config set gateway\.controlUi\.allowedOrigins '([^']+)' --strict-json`/.exec(refused);
  expect(allow, `status: ${refused}`).not.toBeNull();
  const allowed = await oc.openclaw(['config', 'set', 'gateway.controlUi.allowedOrigins', allow![1], '--strict-json']);
  expect(allowed.code, `${allowed.stdout}${allowed.stderr}`.replaceAll(oc.token, '<token>')).toBe(0);
  // The gateway hot-reloads its config; until then a reconnect is still refused.
  await until(
    async () => {
      await vault.getByRole('button', { name: 'Reconnect' }).click();
      await sleep(1500);
      return !(await statusText()).includes('allowedOrigins');
    },
    60_000,
    'the origin to be accepted',
  );

  await until(async () => /Connected to|approve/.test(await statusText()), 30_000, 'connected or pairing required');
  const text = await statusText();
  expect(text).not.toContain(oc.token);
  // The gateway wants this new device approved: the status names the one command to run on the gateway host.
  const pairing = /openclaw devices approve (\S+?)`?\s/.exec(`${text} `);
  expect(pairing, `status: ${text}`).not.toBeNull();
  const approved = await oc.openclaw(['devices', 'approve', pairing![1]]);
  expect(approved.code, `${approved.stdout}\n${approved.stderr}`.replaceAll(oc.token, '<token>')).toBe(0);
  // No click needed: the background checks again while pairing is pending and connects once approved.
  await until(async () => ((await status.textContent()) ?? '').includes('Connected to'), 30_000, 'connected');
  // The gateway token is stored only inside the encrypted vault: not in any IndexedDB record, nor chrome.storage.
  const stored = await rawStorage(vault);
  expect(stored.records).toBeGreaterThan(0);
  expect(stored.text.includes(oc.token), 'gateway token in plaintext storage').toBe(false);

  // No popup open: the request opens the approval window. Allow once → the command runs and its output reaches the
  // model, and the window closes itself.
  const opened = context!.waitForEvent('page', {
    predicate: (p) => p.url().endsWith('/approval.html'),
    timeout: 60_000,
  });
  await runAgent('ext-allow', 'echo hello-from-extension');
  const approvalWindow = await opened;
  const queue = approvalWindow.getByRole('region', { name: 'OpenClaw approvals' });
  await queue.getByText('echo hello-from-extension').waitFor({ timeout: 60_000 });
  await until(async () => (await badge(context!)) === '1', 10_000, 'badge 1');
  const labels = await queue.getByRole('button').allTextContents();
  expect(labels).toContain('Allow once');
  expect(labels).toContain('Deny');
  const closed = approvalWindow.waitForEvent('close', { timeout: 20_000 });
  await queue.getByRole('button', { name: 'Allow once' }).click();
  expect(await toolResult('ext-allow')).toContain('hello-from-extension');
  await closed;
  await until(async () => (await badge(context!)) === '', 10_000, 'badge cleared');
  const popup = await page('popup.html');

  // The worker stops (as Chrome does when idle); opening the popup wakes it and it reconnects on its own.
  const cdp = await context!.newCDPSession(popup);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await popup.close();
  const popup2 = await page('popup.html');
  await runAgent('ext-deny', 'echo should-not-run');
  const queue2 = popup2.getByRole('region', { name: 'OpenClaw approvals' });
  await queue2.getByText('echo should-not-run').waitFor({ timeout: 60_000 });
  await queue2.getByRole('button', { name: 'Deny' }).click();
  const denied = await toolResult('ext-deny');
  expect(denied).toMatch(/denied/i);
  expect(denied).not.toContain('should-not-run\n');
});
