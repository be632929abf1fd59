// Issue 16, Must-show 1: a hub off the laptop. A real `clawkeep hub` listens on a non-loopback address inside a
// network namespace this spec creates (test/support/netns.ts), with a test CA's certificate for hub.test and the
// public origin https://hub.test:8443. The built extension, in Chromium on the test's side of the link, reaches it
// by name (a host resolver rule) over TLS (the leaf's key is the one certificate Chromium accepts besides the
// system's), after the person allowed Clawkeep on that site; it enrols, claims an agent registered from the
// namespace ("another machine": its CLI resolves hub.test through the namespace's /etc/hosts and trusts the test
// CA through NODE_EXTRA_CA_CERTS), and approves its secret request; the agent prints the value.
// Also: a refused permission is explained and nothing is saved; a permission removed later is reported as such.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from '@playwright/test';
import { createTestNetns, type TestNetns } from '../support/netns';
import { createTestCa, type TestCa } from '../support/test-ca';
import { addSecret, createVault, PASSPHRASE } from './helpers';
import { badgeText, claimAgent, stopProcess, test as hubTest, expect, waitUntilWaiting, type CliRun } from './hub';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLAWKEEP = path.join(ROOT, 'bin/clawkeep.mjs');
const PORT = 8443;
const PUBLIC = `https://hub.test:${PORT}`;
const SITE = `${PUBLIC}/*`;
const SECRET = { name: 'deploy-token', value: `remote-${crypto.randomUUID()}`, notes: '', tags: '' };
const SCOPE = `secret:read:${SECRET.name}`;

interface RemoteHub {
  ns: TestNetns;
  ca: TestCa;
  dir: string;
  child: ChildProcess;
  enrollmentCode: string;
  /** base64 SHA-256 of the hub certificate's public key, for --ignore-certificate-errors-spki-list. */
  spki: string;
  log: () => string;
}

let remote: RemoteHub | null = null;
let unavailable: string | null = null;

hubTest.beforeAll(async () => {
  const created = createTestNetns();
  if ('unavailable' in created) {
    unavailable = created.unavailable;
    return;
  }
  const ns = created;
  const ca = createTestCa();
  const dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-remote-hub-'));
  try {
    const leaf = ca.issue({ names: ['hub.test'] });
    ns.hosts({ 'hub.test': ns.inside });
    // prettier-ignore
    const [cmd, argv] = ns.exec(process.execPath, [CLAWKEEP, 'hub', '--listen', `${ns.inside}:${PORT}`,
      '--public-origin', PUBLIC, '--tls-cert', leaf.certFile, '--tls-key', leaf.keyFile, '--data', path.join(dir, 'data')]);
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const enrollmentCode = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hub did not start:\n${out}`)), 30_000);
      const onData = (d: Buffer) => {
        out += d.toString('utf8');
        const code = /Enrollment code: (\S+)/.exec(out)?.[1];
        if (code && out.includes(`listening on https://${ns.inside}:${PORT}`)) {
          clearTimeout(timer);
          resolve(code);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (c) => reject(new Error(`hub exited with ${c}:\n${out}`)));
    });
    const spki = createHash('sha256')
      .update(new X509Certificate(leaf.cert).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    remote = { ns, ca, dir, child, enrollmentCode, spki, log: () => out };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    ca.cleanup();
    ns.remove();
    throw err;
  }
});

hubTest.afterAll(async () => {
  if (!remote) return;
  await stopProcess(remote.child);
  rmSync(remote.dir, { recursive: true, force: true });
  remote.ca.cleanup();
  remote.ns.remove();
});

const test = hubTest.extend({
  // Chromium resolves hub.test to the namespace's address, and accepts the hub's test certificate (by its key):
  // nothing about the extension differs from a build for users.
  // eslint-disable-next-line no-empty-pattern
  chromiumArgs: async ({}, use) => {
    await use(
      remote
        ? [
            `--host-resolver-rules=MAP hub.test ${remote.ns.inside}`,
            `--ignore-certificate-errors-spki-list=${remote.spki}`,
          ]
        : [],
    );
  },
});

test.beforeEach(() => {
  // CI runs as root and can always make a namespace: there a missing one is a failure, never a silent skip.
  if (unavailable !== null && process.env.CI) throw new Error(`no network namespace in CI: ${unavailable}`);
  test.skip(unavailable !== null, `no network namespace: ${unavailable}`);
});

/** `clawkeep ARGS` inside the namespace, where hub.test resolves and the test CA is trusted. */
function cliInNamespace(args: string[]): CliRun {
  const { ns, ca } = remote!;
  const [cmd, argv] = ns.exec(process.execPath, [CLAWKEEP, ...args]);
  const child = spawn(cmd, argv, {
    cwd: ROOT,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.caCertFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const result = new Promise<{ code: number | null; stdout: string; stderr: string; exitedAt: number }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr, exitedAt: performance.now() }));
    },
  );
  return { child, result, stdout: () => stdout, stderr: () => stderr };
}

type DeveloperPrivate = {
  addHostPermission(id: string, host: string): Promise<void>;
  removeHostPermission(id: string, host: string): Promise<void>;
};

/**
 * What a person does on chrome://extensions → Clawkeep → Details → Site access (add or remove a site), through the
 * API that page itself uses. Headless Chromium cannot show the permission prompt, so allowing the site here first
 * is how this test says "Allow": the extension's own `permissions.request`, made in the Save click, then finds it
 * granted and resolves true without a prompt (and still fails without a user gesture).
 */
async function siteAccess(context: BrowserContext, extensionId: string, change: 'add' | 'remove'): Promise<void> {
  const page = await context.newPage();
  try {
    await page.goto('chrome://extensions/');
    await page.evaluate(
      async ([id, site, how]) => {
        const dev = (globalThis as unknown as { chrome: { developerPrivate: DeveloperPrivate } }).chrome
          .developerPrivate;
        await (how === 'add' ? dev.addHostPermission(id, site) : dev.removeHostPermission(id, site));
      },
      [extensionId, SITE, change] as const,
    );
  } finally {
    await page.close();
  }
}

/** Whether the extension holds the hub's host permission now, asked from one of its pages. */
const holdsPermission = (page: Page) =>
  page.evaluate(
    (site) =>
      (
        globalThis as unknown as { chrome: { permissions: { contains(p: object): Promise<boolean> } } }
      ).chrome.permissions.contains({ origins: [site] }),
    SITE,
  );

test('Must-show 1: the extension enrols with a hub on another address over TLS, claims a remote agent and approves its secret request', async ({
  context,
  extensionId,
  openVault,
  openPopup,
  serviceWorker,
  scratch,
}) => {
  test.setTimeout(120_000);
  const vault = await openVault();
  await createVault(vault, PASSPHRASE, 'floor');
  await addSecret(vault, SECRET);

  await siteAccess(context, extensionId, 'add');
  await vault.getByRole('tab', { name: 'Agents' }).click();
  await vault.getByLabel('Hub URL').fill(PUBLIC);
  await vault.getByRole('button', { name: 'Save hub URL' }).click();
  await expect(vault.getByRole('status')).toContainText('Hub URL saved');
  expect(await holdsPermission(vault)).toBe(true);
  await vault.getByLabel('Enrollment code').fill(remote!.enrollmentCode);
  await vault.getByRole('button', { name: 'Enroll' }).click();
  await expect(vault.getByText('Approving as')).toBeVisible();
  const deviceFingerprint = (await vault.getByText('Approving as').locator('code').textContent())!.trim();

  // The agent registers from the namespace, with the public origin.
  const manifest = path.join(scratch, 'remote-bot.md');
  writeFileSync(manifest, '# remote-bot\n\nRuns on another machine.\n');
  const state = path.join(scratch, 'remote-bot.json');
  // prettier-ignore
  const reg = await cliInNamespace(['agent', 'register', '--hub', PUBLIC, '--name', 'remote-bot', '--manifest', manifest,
    '--state', state, '--scopes', SCOPE, '--json']).result;
  expect(reg.code, reg.stderr).toBe(0);
  const registered = JSON.parse(reg.stdout) as { claim_code: string; fingerprint: string };
  await claimAgent(vault, { name: 'remote-bot', state, agent_id: '', ...registered }, [SCOPE]);

  const run = cliInNamespace([
    'agent',
    'secret',
    SECRET.name,
    '--state',
    state,
    '--reason',
    'deploy',
    '--timeout',
    '60',
  ]);
  try {
    await waitUntilWaiting(run);
    await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');
    const popup = await openPopup();
    const card = popup.getByRole('region', { name: 'Pending requests' });
    await expect(card.getByText('remote-bot', { exact: true })).toBeVisible();
    await expect(card.getByText(`Approving as ${deviceFingerprint}`)).toBeVisible();
    await card.getByRole('button', { name: 'Approve' }).click();
    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(SECRET.value);
  } finally {
    await stopProcess(run.child);
  }
  // Every call reached the hub at its public origin (never a wrong_hub_origin answer), over TLS.
  expect(remote!.log()).toMatch(/"path":"\/v1\/intents\/[^"]+\/execute","status":200/);
  expect(remote!.log()).not.toContain('wrong_hub_origin');

  // The person removes the site from Clawkeep's site access: the next call says why it cannot reach the hub,
  // instead of "Could not reach the hub".
  await siteAccess(context, extensionId, 'remove');
  expect(await holdsPermission(vault)).toBe(false);
  await vault.getByLabel('Claim code').fill('BCDF-GHJK');
  await vault.getByRole('button', { name: 'Look up' }).click();
  await expect(vault.getByRole('region', { name: 'Claim an agent' }).getByRole('alert')).toHaveText(
    `Clawkeep no longer has permission to reach ${PUBLIC}. Save the hub URL again in the Agents tab and allow it.`,
  );
});

test('a refused permission is explained, and nothing is saved', async ({ openVault, serviceWorker }) => {
  const vault = await openVault();
  await createVault(vault, PASSPHRASE, 'floor');
  await vault.getByRole('tab', { name: 'Agents' }).click();
  await expect(vault.getByLabel('Hub URL')).toHaveValue('http://127.0.0.1:8787');
  const settings = () =>
    serviceWorker.evaluate(async () => {
      const c = (globalThis as unknown as { chrome: { storage: { local: { get(k: string): Promise<object> } } } })
        .chrome;
      return c.storage.local.get('clawkeep.hub.settings');
    });
  const before = await settings();
  // The person clicks "Deny" at the browser's prompt. Headless Chromium shows that prompt nowhere and cannot answer
  // it (Escape, --deny-permission-prompts, user-restricted sites: the request stays pending), so this page's
  // `permissions.request` answers false here, exactly what Chrome answers for Deny. Everything else is the build.
  await vault.evaluate(() => {
    const c = (globalThis as unknown as { chrome: { permissions: { request: () => Promise<boolean> } } }).chrome;
    c.permissions.request = () => Promise.resolve(false);
  });
  await vault.getByLabel('Hub URL').fill(PUBLIC);
  await vault.getByRole('button', { name: 'Save hub URL' }).click();
  const hubCard = vault.getByRole('region', { name: 'Hub', exact: true });
  await expect(hubCard.getByRole('alert')).toHaveText(
    `Clawkeep needs permission to reach ${PUBLIC}. Nothing was saved.`,
  );
  await expect(vault.getByText('Hub URL saved')).toHaveCount(0);
  expect(await settings()).toEqual(before);
  expect(await holdsPermission(vault)).toBe(false);
  // The background holds to the hub it had: the page reloaded shows it.
  await vault.reload();
  await vault.getByRole('tab', { name: 'Agents' }).click();
  await expect(vault.getByLabel('Hub URL')).toHaveValue('http://127.0.0.1:8787');
});
