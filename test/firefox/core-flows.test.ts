// The core flows in Firefox ESR with the built Firefox add-on (MV2 background page, browser.*, browserAction):
// create a vault, add a secret, lock and unlock, enrol with a real hub, claim an agent, approve its request from the
// popup, and the agent opens exactly the vault value. One Firefox for the whole file (a cold start costs seconds on
// CI); the tests run in order and each builds on the state the previous one left.
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { AgentClient } from '../../lib/agent';
import { utf8Decode } from '../../lib/bytes';
import { startHub, stopHub, type Hub } from '../e2e/hub-process';
import {
  badgeText,
  click,
  clickArmed,
  find,
  FIREFOX_EXTENSION_DIR,
  launchFirefox,
  openExtensionPage,
  ORIGIN,
  pageAt,
  screenshotIfAsked,
  textOf,
  type,
  until,
  waitForText,
  type FirefoxRun,
} from './firefox';

const PASSPHRASE = 'tangerine-orbit-velvet-42';
const SECRET = { name: 'arxiv-key', value: 'arxiv-firefox-secret-7c41e2', notes: 'papers only', tags: 'research' };
const ITEMS = { role: 'list', name: 'Items' } as const;

let ff: FirefoxRun;
let hub: Hub;
let vault: Page;
let deviceFingerprint = '';
let agent: AgentClient;
let agentFingerprint = '';

beforeAll(async () => {
  [ff, hub] = await Promise.all([launchFirefox(), startHub()]);
});

// A failed step leaves a screenshot of every open tab (test-results/firefox/), to see what Firefox showed.
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail' || !ff) return;
  const dir = path.join('test-results', 'firefox');
  mkdirSync(dir, { recursive: true });
  const pages = await ff.browser.pages();
  for (const [i, p] of pages.entries()) {
    const name = `${ctx.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}-${i}.png`;
    await p.screenshot({ path: path.join(dir, name) }).catch(() => undefined);
  }
});

afterAll(async () => {
  await Promise.allSettled([ff?.close(), hub && stopHub(hub)]);
});

test('create a vault in the vault page (Argon2id in a worker, IndexedDB in an extension page)', async () => {
  vault = await openExtensionPage(ff.browser, 'vault.html');
  await waitForText(vault, 'Create your vault');
  await type(vault, { label: 'Passphrase' }, PASSPHRASE);
  await type(vault, { label: 'Repeat passphrase' }, PASSPHRASE);
  await vault.keyboard.press('Enter');
  // The recovery-kit offer follows a new vault; this run skips it (confirming the warning).
  await click(vault, { role: 'button', name: 'Skip for now' });
  await click(vault, { role: 'button', name: 'Skip without a kit' }, { role: 'group', name: 'Skip the recovery kit' });
  await until(async () => !(await textOf(vault)).includes('Create your recovery kit'), 'the offer to go');
  await find(vault, { role: 'tab', name: 'Items' });
  await find(vault, { role: 'button', name: 'Lock now' });
});

test('Argon2id in Firefox: no cross-origin isolation, so the KDF worker takes the single path, with the CLI bytes', async () => {
  // Firefox does not read the manifest's COOP/COEP keys, so its extension pages have no SharedArrayBuffer: the KDF
  // worker must fall back to one thread and still give the reference CLI's bytes (test/vectors/argon2id.json, the
  // vault's defaults: 64 MiB, 3 passes, 4 lanes).
  const vectors: {
    vectors: {
      password: string;
      salt: string;
      memoryKiB: number;
      iterations: number;
      parallelism: number;
      tag: string;
    }[];
  } = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'vectors', 'argon2id.json'), 'utf8'));
  const v = vectors.vectors.find((x) => x.memoryKiB === 65536 && x.parallelism === 4)!;
  const assets = readdirSync(path.join(FIREFOX_EXTENSION_DIR, 'assets')).filter((f) => /^kdf\.worker-.*\.js$/.test(f));
  expect(assets).toHaveLength(1);
  await vault.evaluate(readFileSync(createRequire(import.meta.url).resolve('comlink/dist/umd/comlink.js'), 'utf8'));
  const result = await vault.evaluate(
    async (workerUrl, v) => {
      const Comlink = (globalThis as unknown as { Comlink: typeof import('comlink') }).Comlink;
      const remote = Comlink.wrap<import('../../lib/crypto/kdf-worker-api').KdfWorkerApi>(
        new Worker(workerUrl, { type: 'module' }),
      );
      const fromHex = (h: string) => Uint8Array.from(h.match(/../g)!, (b) => parseInt(b, 16));
      const res = await remote.derive(fromHex(v.password), fromHex(v.salt), {
        algorithm: 'argon2id',
        memoryKiB: v.memoryKiB,
        iterations: v.iterations,
        parallelism: v.parallelism,
      });
      if (!res.ok) return { isolated: globalThis.crossOriginIsolated, error: res.error };
      const hex = Array.from(res.key, (x) => x.toString(16).padStart(2, '0')).join('');
      return { isolated: globalThis.crossOriginIsolated, path: res.path, hex };
    },
    `${ORIGIN}/assets/${assets[0]}`,
    v,
  );
  expect(result).toEqual({ isolated: false, path: 'single', hex: v.tag });
});

test('add a secret', async () => {
  await click(vault, { role: 'button', name: 'Add secret' });
  await type(vault, { label: 'Name' }, SECRET.name);
  await type(vault, { label: 'Value' }, SECRET.value);
  await type(vault, { label: 'Notes' }, SECRET.notes);
  await type(vault, { label: 'Tags (comma-separated)' }, SECRET.tags);
  await click(vault, { role: 'button', name: 'Save' });
  await find(vault, { role: 'button', name: new RegExp(SECRET.name) }, ITEMS);
});

test('lock, refuse a wrong passphrase, unlock: the secret decrypts to its value', async () => {
  await click(vault, { role: 'button', name: 'Lock now' });
  await find(vault, { role: 'button', name: 'Unlock' });
  expect(await textOf(vault)).not.toContain(SECRET.name);

  await type(vault, { label: 'Passphrase' }, `${PASSPHRASE}-not`);
  await vault.keyboard.press('Enter');
  await waitForText(vault, 'Wrong passphrase');
  expect(await textOf(vault)).not.toContain(SECRET.name);

  await type(vault, { label: 'Passphrase' }, PASSPHRASE);
  await vault.keyboard.press('Enter');
  await click(vault, { role: 'button', name: new RegExp(SECRET.name) }, ITEMS);
  await click(vault, { role: 'button', name: 'Reveal' });
  await waitForText(vault, SECRET.value);
  await waitForText(vault, SECRET.notes);
  await screenshotIfAsked(vault, 'vault-items');
});

test('enrol this device with a real hub on loopback', async () => {
  await click(vault, { role: 'tab', name: 'Agents' });
  await type(vault, { label: 'Hub URL' }, hub.url);
  await click(vault, { role: 'button', name: 'Save hub URL' });
  await waitForText(vault, 'Hub URL saved');
  await type(vault, { label: 'Enrollment code' }, hub.enrollmentCode);
  await click(vault, { role: 'button', name: 'Enroll' });
  await waitForText(vault, 'Approving as', undefined, 30_000);
  deviceFingerprint = await vault.evaluate(
    () =>
      Array.from(document.querySelectorAll('code')).find((c) => c.parentElement?.textContent?.includes('Approving as'))
        ?.textContent ?? '',
  );
  expect(deviceFingerprint).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/);
  await screenshotIfAsked(vault, 'vault-agents');
});

test('claim an agent: the hub records the claim by this device with the granted scope', async () => {
  agent = new AgentClient({ fetch: (url, init) => fetch(url, init) });
  const reg = await agent.register({
    hub: hub.url,
    name: 'research-bot',
    manifest: { markdown: '# research-bot\n\nReads arXiv for you.' },
    requestedScopes: [`secret:read:${SECRET.name}`],
  });
  agentFingerprint = reg.fingerprint;
  await type(vault, { label: 'Claim code' }, reg.claim_code);
  await click(vault, { role: 'button', name: 'Look up' });
  const preview = { role: 'group', name: 'Agent to claim' } as const;
  await waitForText(vault, reg.fingerprint, preview);
  // The scope in words, then its id (components/agents/scope-words.ts).
  const scope = await find(
    vault,
    { role: 'checkbox', name: `Read the secret “${SECRET.name}” secret:read:${SECRET.name}` },
    preview,
  );
  expect(await scope.evaluate((e) => (e as HTMLInputElement).checked)).toBe(false);
  await scope.click();
  await scope.dispose();
  await click(vault, { role: 'button', name: 'Claim agent' });
  await waitForText(vault, 'Claimed research-bot', { role: 'region', name: 'Claim an agent' });

  const status = await agent.status();
  expect(status.status).toBe('claimed');
  expect(status.device_fingerprint).toBe(deviceFingerprint);
  expect(status.granted_scopes).toEqual([`secret:read:${SECRET.name}`]);
});

test('an agent asks; the badge counts it; Approve in the popup; the agent opens exactly the vault value', async () => {
  const intent = await agent.createIntent({
    kind: 'secret.request',
    payload: { item: SECRET.name, reason: 'fetch new papers' },
  });
  await until(async () => (await badgeText(vault)) === '1', 'the badge to show 1', 20_000);
  // The approval window (windows.create from the MV2 background page) opens on the new request.
  await until(() => pageAt(ff.browser, 'approval.html'), 'the approval window', 20_000);

  const popup = await openExtensionPage(ff.browser, 'popup.html');
  const card = { role: 'region', name: 'Pending requests' } as const;
  await waitForText(popup, `the secret ${SECRET.name}`, card);
  const shown = await textOf(popup, card);
  expect(shown).toContain('fetch new papers');
  expect(shown).toContain('research-bot');
  expect(shown).toContain(agentFingerprint);
  expect(shown).toContain(`Approving as ${deviceFingerprint}`);
  await screenshotIfAsked(popup, 'popup-card');
  const window = await pageAt(ff.browser, 'approval.html');
  if (window) await screenshotIfAsked(window, 'approval-window', [360]);
  await clickArmed(popup, { role: 'button', name: 'Approve' }, card);
  await until(async () => (await badgeText(vault)) === '', 'the badge to clear', 20_000);

  // The approval verifies under the pinned device key and the sealed secret opens to the value typed in Firefox.
  const { decision } = await agent.waitForDecision(intent.intent_id, { timeoutMs: 15_000, pollMs: 200 });
  expect(decision).toBe('approved');
  const executed = await agent.execute(intent.intent_id);
  expect(executed.approval?.decision).toBe('approve');
  expect(utf8Decode(executed.secret!)).toBe(SECRET.value);

  // The hub only ever held ciphertext.
  for (const file of readdirSync(hub.dataDir)) {
    const bytes = readFileSync(path.join(hub.dataDir, file));
    expect(bytes.includes(Buffer.from(SECRET.value)), `secret found in ${file}`).toBe(false);
  }
});
