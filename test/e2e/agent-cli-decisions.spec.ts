import type { Page } from '@playwright/test';
import { PASSPHRASE, unlock } from './helpers';
import {
  badgeText,
  claimAgent,
  registerAgent,
  runCli,
  setUpVaultAndEnroll,
  spawnCli,
  test,
  expect,
  waitUntilWaiting,
  type Hub,
  type RegisteredAgent,
} from './hub';

const SECRET = { name: 'arxiv-key', value: `arxiv-cli-${crypto.randomUUID()}`, notes: 'papers only', tags: 'research' };
const SECRET_SCOPE = `secret:read:${SECRET.name}`;

/** Vault with the secret, device enrolled, and `name` registered through the CLI and claimed with `scopes`. */
async function claimedAgent(
  vault: Page,
  hub: Hub,
  scratch: string,
  scopes: string[],
  name = 'research-bot',
): Promise<RegisteredAgent> {
  await setUpVaultAndEnroll(vault, hub, [SECRET]);
  const agent = await registerAgent(hub, scratch, name, scopes);
  await claimAgent(vault, agent, scopes);
  return agent;
}

const secretArgs = (agent: RegisteredAgent, reason: string, ...extra: string[]) => [
  'agent',
  'secret',
  SECRET.name,
  '--state',
  agent.state,
  '--reason',
  reason,
  '--timeout',
  '60',
  ...extra,
];

const requestArgs = (agent: RegisteredAgent, kind: string, payload: object, ...extra: string[]) => [
  'agent',
  'request',
  '--state',
  agent.state,
  '--kind',
  kind,
  '--payload',
  JSON.stringify(payload),
  '--json',
  ...extra,
];

const queue = (popup: Page) => popup.getByRole('region', { name: 'Pending requests' });

test('Deny: `agent secret` exits 3; revoking the installation ends its pending request and the agent is locked out (exit 2)', async ({
  openVault,
  openPopup,
  hub,
  scratch,
}) => {
  const vault = await openVault();
  const agent = await claimedAgent(vault, hub, scratch, [SECRET_SCOPE]);

  const denied = spawnCli(secretArgs(agent, 'deny this one'));
  await waitUntilWaiting(denied);
  const popup = await openPopup();
  await expect(queue(popup).getByText('deny this one')).toBeVisible();
  await queue(popup).getByRole('button', { name: 'Deny', exact: true }).click();
  const d = await denied.result;
  expect(d.code, d.stderr).toBe(3);
  expect(d.stdout).toBe('');
  expect(d.stderr).toContain(`The request for "${SECRET.name}" was denied.`);
  await expect(queue(popup)).toHaveCount(0);

  // A request still pending when the installation is revoked: the waiting CLI stops with agent_revoked.
  const pending = spawnCli(secretArgs(agent, 'pending at revocation', '--json'));
  await waitUntilWaiting(pending);
  await expect(queue(popup).getByText('pending at revocation')).toBeVisible();
  await vault.bringToFront();
  await vault.getByRole('button', { name: 'Revoke research-bot' }).click();
  await vault.getByRole('group', { name: 'Confirm revoke' }).getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(vault.getByRole('list', { name: 'Claimed agents' })).toContainText('Status: revoked');
  await expect(vault.getByRole('button', { name: 'Revoke research-bot' })).toHaveCount(0);
  await expect(queue(popup)).toHaveCount(0);
  const p = await pending.result;
  expect(p.code, p.stderr).toBe(2);
  expect(JSON.parse(p.stdout).error.code).toBe('agent_revoked');

  const status = await runCli(['agent', 'status', '--state', agent.state, '--json']);
  expect(status.code, status.stderr).toBe(0);
  // The extension signed the revocation (CKIR): the agent verified it, so it stops for good without asking the hub.
  expect(JSON.parse(status.stdout)).toMatchObject({
    agent_id: agent.agent_id,
    status: 'revoked',
    revocation: 'signed',
  });

  const after = await runCli(secretArgs(agent, 'after revocation', '--json'));
  expect(after.code, after.stderr).toBe(2);
  expect(JSON.parse(after.stdout).error.code).toBe('installation_revoked');
  expect(after.stdout).not.toContain(SECRET.value);
});

test('keyboard: bare A and D decide nothing; Enter on the focused Deny / Approve button decides', async ({
  openVault,
  openPopup,
  hub,
  scratch,
}) => {
  const vault = await openVault();
  const agent = await claimedAgent(vault, hub, scratch, [SECRET_SCOPE]);

  const first = spawnCli(secretArgs(agent, 'first: deny by keyboard'));
  await waitUntilWaiting(first);
  const second = spawnCli(secretArgs(agent, 'second: approve by keyboard'));
  await waitUntilWaiting(second);

  const popup = await openPopup();
  await popup.bringToFront();
  await expect(queue(popup).getByText('1 of 2')).toBeVisible();
  await expect(queue(popup).getByText('first: deny by keyboard')).toBeVisible();
  // No single-key shortcuts any more (issue 13 item 3): a stray "a" or "d" decides nothing.
  await popup.keyboard.press('a');
  await popup.keyboard.press('d');
  await popup.waitForTimeout(500);
  expect(first.child.exitCode).toBeNull();
  await expect(queue(popup).getByText('1 of 2')).toBeVisible();

  await queue(popup).getByRole('button', { name: 'Deny', exact: true }).focus();
  await popup.keyboard.press('Enter');
  const d = await first.result;
  expect(d.code, d.stderr).toBe(3);
  expect(d.stdout).toBe('');

  await expect(queue(popup).getByText('1 of 1')).toBeVisible();
  await expect(queue(popup).getByText('second: approve by keyboard')).toBeVisible();
  // Approve is armed: Enter on it counts once the card has been visible for a moment.
  const approve = queue(popup).getByRole('button', { name: 'Approve' });
  await expect(approve).toBeEnabled();
  await approve.focus();
  await popup.keyboard.press('Enter');
  const a = await second.result;
  expect(a.code, a.stderr).toBe(0);
  expect(a.stdout).toBe(SECRET.value);
  await expect(queue(popup)).toHaveCount(0);
});

test('high risk (shell.exec): Approve stays disabled until "I understand the risk"; "Show raw JSON" shows the payload', async ({
  openVault,
  openPopup,
  serviceWorker,
  hub,
  scratch,
}) => {
  const vault = await openVault();
  const agent = await claimedAgent(vault, hub, scratch, ['action:shell.exec']);
  const payload = { summary: 'Drop the staging database', command: 'dropdb staging' };

  const run = spawnCli(requestArgs(agent, 'shell.exec', payload, '--wait', '--timeout', '60'));
  await waitUntilWaiting(run);
  await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');
  const popup = await openPopup();
  const card = queue(popup);
  await expect(card.getByText('Drop the staging database')).toBeVisible();
  await expect(card.getByText('high risk')).toBeVisible();
  const approve = card.getByRole('button', { name: 'Approve' });
  const ack = card.getByRole('checkbox', { name: 'I understand the risk' });
  await expect(ack).not.toBeChecked();
  await expect(approve).toBeDisabled();

  // A stray "a" does nothing either: the request stays.
  await popup.keyboard.press('a');

  await expect(card.getByLabel('Raw request')).toHaveCount(0);
  await card.getByRole('button', { name: 'Show raw JSON' }).click();
  const raw = card.getByLabel('Raw request');
  await expect(raw).toContainText('"kind": "shell.exec"');
  await expect(raw).toContainText('"command": "dropdb staging"');
  const shownHash = /payload_hash: ([0-9a-f]{64})/.exec((await raw.textContent()) ?? '')?.[1];
  expect(shownHash).toBeDefined();
  await expect(approve).toBeDisabled();
  expect(run.child.exitCode).toBeNull();

  await ack.check();
  await expect(approve).toBeEnabled();
  await approve.click();
  const r = await run.result;
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.decision).toBe('approved');
  expect(out.intent.payload_hash).toBe(shownHash);
  expect(out.approval).toMatchObject({ decision: 'approve', payload_hash: shownHash, intent_id: out.intent.intent_id });
  await expect(card).toHaveCount(0);
});

test('"Deny all from this agent" denies every pending request of that agent and no other', async ({
  openVault,
  openPopup,
  serviceWorker,
  hub,
  scratch,
}) => {
  const vault = await openVault();
  const agent = await claimedAgent(vault, hub, scratch, ['action:shell.exec']);
  const other = await registerAgent(hub, scratch, 'mail-bot', ['action:message.send']);
  await claimAgent(vault, other, ['action:message.send']);

  const one = spawnCli(
    requestArgs(
      agent,
      'shell.exec',
      { summary: 'List the home directory', command: 'ls ~' },
      '--wait',
      '--timeout',
      '60',
    ),
  );
  await waitUntilWaiting(one);
  const two = spawnCli(
    requestArgs(agent, 'shell.exec', { summary: 'Show disk usage', command: 'df -h' }, '--wait', '--timeout', '60'),
  );
  await waitUntilWaiting(two);
  const mail = await runCli(
    requestArgs(other, 'message.send', {
      summary: 'Tell Bob',
      channel: 'email',
      to: 'bob@example.com',
      body: 'Papers are in.',
    }),
  );
  expect(mail.code, mail.stderr).toBe(0);
  const mailIntent = JSON.parse(mail.stdout);
  expect(mailIntent.status).toBe('pending');
  await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('3');

  const popup = await openPopup();
  const card = queue(popup);
  await expect(card.getByText('1 of 3')).toBeVisible();
  await expect(card.getByText('research-bot', { exact: true })).toBeVisible();
  await card.getByRole('button', { name: 'Deny all from this agent' }).click();

  for (const run of [one, two]) {
    const r = await run.result;
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({
      decision: 'denied',
      intent: { status: 'denied', agent_id: agent.agent_id },
    });
  }
  // mail-bot's request is untouched and is now the only one.
  await expect(card.getByText('1 of 1')).toBeVisible();
  await expect(card.getByText('mail-bot', { exact: true })).toBeVisible();
  await expect(card.getByText('Tell Bob')).toBeVisible();
  await expect.poll(() => badgeText(serviceWorker)).toBe('1');
});

test('locked vault: the popup asks for the passphrase first, then shows the request that came in meanwhile', async ({
  openVault,
  openPopup,
  serviceWorker,
  hub,
  scratch,
}) => {
  const vault = await openVault();
  const agent = await claimedAgent(vault, hub, scratch, [SECRET_SCOPE]);
  const first = await openPopup();
  await first.getByRole('button', { name: 'Lock now' }).click();
  await expect(first.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
  await first.close();

  const run = spawnCli(secretArgs(agent, 'asked while locked'));
  await waitUntilWaiting(run);
  // Issue 15: the locked watcher counts it (ids only), and the popup says so above the passphrase field.
  await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');

  const popup = await openPopup();
  await expect(popup.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
  await expect(popup.getByRole('form', { name: 'Vault locked' }).getByRole('status')).toHaveText(
    '1 request waiting — unlock to review',
  );
  await expect(queue(popup)).toHaveCount(0);
  await expect(popup.getByText('asked while locked')).toHaveCount(0);
  await unlock(popup, PASSPHRASE);

  const card = queue(popup);
  await expect(card.getByText(`the secret ${SECRET.name}`)).toBeVisible();
  await expect(card.getByText('asked while locked')).toBeVisible();
  await expect(popup.getByRole('heading', { name: 'Vault locked' })).toHaveCount(0);
  await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');
  await card.getByRole('button', { name: 'Approve' }).click();
  const r = await run.result;
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(SECRET.value);
});
