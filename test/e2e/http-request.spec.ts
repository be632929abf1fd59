// Issue 18: "use a secret without handing it over". A real HTTPS server on loopback (a test CA's certificate for
// api.test and other.test; Chromium reaches both names by a host resolver rule and accepts the leaf by its key) records
// what it receives. The agent runs `clawkeep agent fetch` with a {{secret:NAME}} placeholder; the person approves in
// one click in the built extension's popup; the background makes the call with the secret and returns the answer
// sealed to the agent. Must-shows 1-3: the server got the real secret, the agent printed the answer, an echo of the
// secret comes back cut, a host the secret does not allow is refused with no card, a redirect to another origin is
// not followed; the secret is nowhere in the agent's output, its state file, the hub's files or the hub's log.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { allowSite, setAllowedHosts, withHttpsTarget } from './http-call-helpers';
import { addSecret } from './helpers';
import {
  badgeText,
  claimAgent,
  expect,
  registerAgent,
  setUpVaultAndEnroll,
  spawnCli,
  stopProcess,
  waitUntilWaiting,
  type CliResult,
  type RegisteredAgent,
} from './hub';

const SECRET = { name: 'GitHub token', value: `ghp_e2e${crypto.randomUUID().replace(/-/g, '')}`, notes: '', tags: '' };
const SHOTS = process.env.CLAWKEEP_SHOTS_DIR;

const { test, target } = withHttpsTarget(['api.test', 'other.test']);

const api = (p: string) => `https://api.test:${target().port}${p}`;
const other = (p: string) => `https://other.test:${target().port}${p}`;

function fetchRun(agent: RegisteredAgent, url: string, extra: string[] = []) {
  // prettier-ignore
  return spawnCli(['agent', 'fetch', url, '-H', `Authorization: Bearer {{secret:${SECRET.name}}}`, '--state', agent.state,
    '--reason', 'read the profile', '--timeout', '60', ...extra]);
}

/** Approves the one pending card in a fresh popup; returns the popup (for the confirmation and screenshots). */
async function approveInPopup(openPopup: () => Promise<Page>, shotName?: string, width = 360): Promise<Page> {
  const popup = await openPopup();
  await popup.setViewportSize({ width, height: width > 360 ? 900 : 600 });
  const card = popup.getByRole('region', { name: 'Pending requests' });
  await expect(card.getByRole('button', { name: 'Approve' })).toBeEnabled();
  if (SHOTS && shotName) await popup.screenshot({ path: `${SHOTS}/${shotName}.png` });
  await card.getByRole('button', { name: 'Approve' }).click();
  await expect(popup.getByRole('status', { name: 'Decision sent' })).toBeVisible({ timeout: 40_000 });
  if (SHOTS && shotName) await popup.screenshot({ path: `${SHOTS}/${shotName}-sent.png` });
  return popup;
}

function expectNoSecret(bytes: Buffer | string, where: string): void {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  expect(b.includes(Buffer.from(SECRET.value)), `the secret found in ${where}`).toBe(false);
  expect(b.includes(Buffer.from(btoa(SECRET.value))), `the secret (base64) found in ${where}`).toBe(false);
}

test('Must-shows 1-3: the server gets the real secret, the agent gets the answer, echoes come back cut, other hosts and redirects get nothing', async ({
  context,
  extensionId,
  openVault,
  openPopup,
  serviceWorker,
  hub,
  scratch,
}) => {
  test.setTimeout(180_000);
  const t = target();
  const vault = await openVault();
  await vault.setViewportSize({ width: 1280, height: 900 });
  await setUpVaultAndEnroll(vault, hub, []);
  await vault.getByRole('tab', { name: 'Items' }).click();
  await addSecret(vault, SECRET);
  await setAllowedHosts(vault, SECRET.name, [`api.test:${t.port}`]);
  await vault.getByRole('tab', { name: 'Agents' }).click();
  const scopes = [`http:api.test:${t.port}`, `http:other.test:${t.port}`];
  const agent = await registerAgent(hub, scratch, 'research-bot', scopes);
  await claimAgent(vault, agent, scopes);
  const outputs: CliResult[] = [];

  // 1. One click: the server receives the real secret; the agent prints the server's answer.
  const first = fetchRun(agent, api('/user'));
  await waitUntilWaiting(first);
  await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');
  const popup = await openPopup();
  await popup.setViewportSize({ width: 360, height: 600 });
  const card = popup.getByRole('region', { name: 'Pending requests' });
  await expect(
    card.getByText(`research-bot wants to GET ${api('/user')} using your “GitHub token” in the Authorization header`),
  ).toBeVisible();
  await expect(card.getByText(`api.test:${t.port}`, { exact: true })).toBeVisible();
  if (SHOTS) await popup.screenshot({ path: `${SHOTS}/http-request-card-360.png` });
  // The first approval for a host asks the browser for it. The person says no (headless Chromium cannot show the
  // prompt: the page's own permissions.request answers false, exactly what Chrome answers for Deny): nothing is
  // sent, nothing is decided, the card says why.
  await popup.evaluate(() => {
    const c = (globalThis as unknown as { chrome: { permissions: { request: () => Promise<boolean> } } }).chrome;
    c.permissions.request = () => Promise.resolve(false);
  });
  await card.getByRole('button', { name: 'Approve' }).click();
  await expect(card.getByRole('alert')).toContainText(
    `Clawkeep needs your permission to reach https://api.test:${t.port} to make this call. Nothing was sent.`,
  );
  expect(t.received).toHaveLength(0);
  // Then the person allows the site (Site access, as the prompt's Allow would) and approves again.
  await allowSite(context, extensionId, `https://api.test:${t.port}/*`);
  await popup.reload();
  await card.getByRole('button', { name: 'Approve' }).click();
  const r1 = await first.result;
  outputs.push(r1);
  expect(r1.code, r1.stderr).toBe(0);
  expect(JSON.parse(r1.stdout)).toEqual({ ok: true, method: 'GET', path: '/user', bytes: 0 });
  const got = t.received.filter((r) => r.url === '/user');
  expect(got).toHaveLength(1);
  expect(got[0]!.headers.authorization).toBe(`Bearer ${SECRET.value}`);
  // The call carried nothing of the person's browser session.
  expect(got[0]!.headers.cookie).toBeUndefined();

  // 2. The server echoes the Authorization header back: the agent receives it cut, and the person is told.
  const echo = fetchRun(agent, api('/echo-auth'), ['--json']);
  await waitUntilWaiting(echo);
  const echoPopup = await approveInPopup(openPopup, 'http-request-card-1280', 1280);
  await expect(echoPopup.getByRole('status', { name: 'Decision sent' })).toContainText('cut out');
  const r2 = await echo.result;
  outputs.push(r2);
  expect(r2.code, r2.stderr).toBe(0);
  const echoed = JSON.parse(r2.stdout) as { status: number; body?: string; redacted: string[] };
  expect(echoed.status).toBe(200);
  expect(echoed.redacted.length).toBeGreaterThan(0);
  expect(t.received.filter((r) => r.url === '/echo-auth')[0]!.headers.authorization).toBe(`Bearer ${SECRET.value}`);

  // 3a. A redirect to another origin is not followed with the secret: other.test never hears from the browser.
  const before = t.received.length;
  const redirect = fetchRun(agent, api(`/redirect?to=${encodeURIComponent(other('/landing'))}`), ['--json']);
  await waitUntilWaiting(redirect);
  await approveInPopup(openPopup);
  const r3 = await redirect.result;
  outputs.push(r3);
  expect(r3.code, r3.stderr).toBe(0);
  expect((JSON.parse(r3.stdout) as { redirect: unknown }).redirect).not.toBeNull();
  expect(t.received.slice(before).map((r) => r.url)).toEqual([`/redirect?to=${encodeURIComponent(other('/landing'))}`]);
  expect(t.received.some((r) => r.host.startsWith('other.test'))).toBe(false);

  // 3b. A host the secret does not allow: refused with a clear error, no card shown, nothing sent.
  const sent = t.received.length;
  const refused = fetchRun(agent, other('/collect'));
  const r4 = await refused.result;
  outputs.push(r4);
  expect(r4.code).not.toBe(0);
  expect(r4.stderr).toContain(`may not be sent to other.test:${t.port}`);
  expect(t.received.length).toBe(sent);
  expect(await badgeText(serviceWorker)).toBe('');

  // The Activity tab lists the calls (method, host, path, status), and says where the secret was cut out.
  await vault.getByRole('tab', { name: 'Activity' }).click();
  const calls = vault.getByRole('region', { name: 'Calls made for your agents' });
  await expect(calls).toContainText(`research-bot: GET api.test:${t.port}/user → 200`);
  await expect(calls).toContainText('was cut out before the agent got it');
  await expect(calls).toContainText(`research-bot: GET api.test:${t.port}/redirect → a redirect, not followed`);
  if (SHOTS) await vault.screenshot({ path: `${SHOTS}/http-request-activity-1280.png`, fullPage: true });

  // The secret is nowhere the agent or the hub can read: stdout, stderr, the agent's state, the hub's files and log.
  for (const [i, o] of outputs.entries()) {
    expectNoSecret(o.stdout, `agent stdout #${i + 1}`);
    expectNoSecret(o.stderr, `agent stderr #${i + 1}`);
  }
  expectNoSecret(readFileSync(agent.state), 'the agent state file');
  for (const file of readdirSync(hub.dataDir))
    expectNoSecret(readFileSync(path.join(hub.dataDir, file)), `${file} (hub running)`);
  expectNoSecret(hub.log(), 'the hub log');
  await stopProcess(first.child);
});
