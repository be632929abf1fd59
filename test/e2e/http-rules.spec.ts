// Issue 18 must-show 4: "Don't ask again" on an http.request stores a rule (method, host, path prefix, the secret's
// place, a daily limit). With the built extension, a real HTTPS server on loopback (test/support/https-target.ts) and
// `clawkeep agent fetch`: the person approves one call with a /v1 rule of 3 a day; 3 matching calls are made and
// answered with no card; a call to another path asks; a 4th matching call is past the limit and asks; the Agents tab
// lists the rule with its uses, and after Revoke the next matching call asks again. Screenshots of the card's rule
// choice and of the Agents tab at 360 and 1280 px go to CLAWKEEP_SHOTS_DIR when it is set.
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
  type CliRun,
  type RegisteredAgent,
} from './hub';

const SECRET = { name: 'Token', value: `tok_e2e${crypto.randomUUID().replace(/-/g, '')}`, notes: '', tags: '' };
const SHOTS = process.env.CLAWKEEP_SHOTS_DIR;

const { test, target } = withHttpsTarget(['api.test']);

const api = (p: string) => `https://api.test:${target().port}${p}`;

function fetchRun(agent: RegisteredAgent, url: string): CliRun {
  // prettier-ignore
  return spawnCli(['agent', 'fetch', url, '-H', `Authorization: Bearer {{secret:${SECRET.name}}}`, '--state', agent.state,
    '--reason', 'list the items', '--timeout', '60']);
}

/** A call answered by the rule: the agent prints the server's answer and no card ever appears. */
async function answeredWithoutCard(agent: RegisteredAgent, path: string, popupBadge: () => Promise<string>) {
  const run = fetchRun(agent, api(path));
  const r = await run.result;
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, method: 'GET' });
  expect(await popupBadge()).toBe('');
}

/** A call the rule does not answer: it waits for the person, who denies it in the popup. */
async function asksThenDeny(
  agent: RegisteredAgent,
  path: string,
  openPopup: () => Promise<Page>,
  badge: () => Promise<string>,
) {
  const run = fetchRun(agent, api(path));
  await expect.poll(badge, { timeout: 20_000 }).toBe('1');
  const popup = await openPopup();
  const card = popup.getByRole('region', { name: 'Pending requests' });
  await expect(card.getByText(`wants to GET ${api(path)}`, { exact: false })).toBeVisible();
  await card.getByRole('button', { name: 'Deny', exact: true }).click();
  await expect(popup.getByRole('status', { name: 'Decision sent' })).toBeVisible({ timeout: 40_000 });
  expect((await run.result).code).not.toBe(0);
  await popup.close();
}

test('Must-show 4: a standing rule answers 3 matching calls, asks for another path and past its limit, and asks again once revoked', async ({
  context,
  extensionId,
  openVault,
  openPopup,
  serviceWorker,
  hub,
  scratch,
}) => {
  test.setTimeout(240_000);
  const t = target();
  const badge = () => badgeText(serviceWorker);
  const vault = await openVault();
  await vault.setViewportSize({ width: 1280, height: 900 });
  await setUpVaultAndEnroll(vault, hub, []);
  await vault.getByRole('tab', { name: 'Items' }).click();
  await addSecret(vault, SECRET);
  await setAllowedHosts(vault, SECRET.name, [`api.test:${t.port}`]);
  await vault.getByRole('tab', { name: 'Agents' }).click();
  const scopes = [`http:api.test:${t.port}`];
  const agent = await registerAgent(hub, scratch, 'research-bot', scopes);
  await claimAgent(vault, agent, scopes);
  await allowSite(context, extensionId, `https://api.test:${t.port}/*`);

  // The first call: the person opens "Don't ask again…", sees the rule in words, narrows it to /v1 and 3 a day.
  const first = fetchRun(agent, api('/v1/items?page=0'));
  await expect.poll(badge, { timeout: 20_000 }).toBe('1');
  const popup = await openPopup();
  await popup.setViewportSize({ width: 360, height: 600 });
  const card = popup.getByRole('region', { name: 'Pending requests' });
  await card.getByRole('button', { name: "Don't ask again…" }).click();
  const rule = card.getByRole('group', { name: "Don't ask again for calls like this" });
  await expect(rule).toContainText(
    `Don't ask again for GET ${api('/v1/items/…')} using your “Token” in the Authorization header — up to 100 calls a day.`,
  );
  // A prefix that ends inside a segment is refused, in words, and nothing can be approved with it.
  await rule.getByLabel('Path prefix').fill('/v1/it');
  await expect(rule.getByRole('alert')).toContainText(
    "The path prefix must be the start of this request's path (/v1/items), ending where a path segment ends.",
  );
  await expect(rule.getByRole('button', { name: "Approve and don't ask again" })).toBeDisabled();
  if (SHOTS) await popup.screenshot({ path: `${SHOTS}/http-rule-card-invalid-360.png` });
  await rule.getByLabel('Path prefix').fill('/v1');
  await rule.getByLabel('Calls a day').fill('3');
  await expect(rule).toContainText(
    `GET ${api('/v1/…')} using your “Token” in the Authorization header — up to 3 calls a day.`,
  );
  if (SHOTS) await popup.screenshot({ path: `${SHOTS}/http-rule-card-360.png` });
  await rule.getByRole('button', { name: "Approve and don't ask again" }).click();
  await expect(popup.getByRole('status', { name: 'Decision sent' })).toContainText('within the rule');
  const r0 = await first.result;
  expect(r0.code, r0.stderr).toBe(0);
  await popup.close();

  // Three matching calls: made with the secret and answered with no card.
  for (const path of ['/v1/items?page=1', '/v1/items/2', '/v1']) await answeredWithoutCard(agent, path, badge);
  expect(t.received.map((r) => r.url)).toEqual(['/v1/items?page=0', '/v1/items?page=1', '/v1/items/2', '/v1']);
  expect(t.received.every((r) => r.headers.authorization === `Bearer ${SECRET.value}`)).toBe(true);

  // Another path asks; a 4th matching call is past the limit and asks. Neither reaches the server.
  await asksThenDeny(agent, '/v10/items', openPopup, badge);
  await asksThenDeny(agent, '/v1/items?page=4', openPopup, badge);
  expect(t.received).toHaveLength(4);

  // The Agents tab lists the rule: its words, 3 of 3 used in the last 24 hours; Revoke.
  await vault.reload();
  await vault.getByRole('tab', { name: 'Agents' }).click();
  const rules = vault.getByRole('list', { name: 'HTTP request rules' });
  await expect(rules).toContainText(
    `research-bot may call GET ${api('/v1/…')} using your “Token” in the Authorization header — up to 3 calls a day`,
  );
  await expect(rules).toContainText('3 of 3 in the last 24 hours (limit reached: calls ask you again)');
  if (SHOTS) {
    await rules.scrollIntoViewIfNeeded();
    await vault.screenshot({ path: `${SHOTS}/http-rules-agents-1280.png` });
    await vault.setViewportSize({ width: 360, height: 800 });
    await rules.scrollIntoViewIfNeeded();
    await vault.screenshot({ path: `${SHOTS}/http-rules-agents-360.png` });
    await vault.setViewportSize({ width: 1280, height: 900 });
  }
  await rules.getByRole('button', { name: `Revoke rule for GET api.test:${t.port}/v1 (research-bot)` }).click();
  await expect(vault.getByRole('list', { name: 'HTTP request rules' })).toHaveCount(0);

  // Revoked: the next call the rule covered (a new day's room aside) asks again.
  await asksThenDeny(agent, '/v1/items?page=5', openPopup, badge);
  expect(t.received).toHaveLength(4);
});
