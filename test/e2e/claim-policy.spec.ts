import { hubErrorText } from '../../lib/protocol/api-errors';
import {
  badgeText,
  registerAgent,
  runCli,
  setUpVaultAndEnroll,
  spawnCli,
  stopProcess,
  test,
  expect,
  waitUntilWaiting,
} from './hub';

const SECRET = { name: 'arxiv-key', value: `arxiv-policy-${crypto.randomUUID()}`, notes: '', tags: '' };
const SCOPES = ['action:action.approve', `secret:read:${SECRET.name}`];
const ACTION = ['--kind', 'action.approve', '--payload', '{"summary":"x","risk":"low"}', '--wait'];

test('the human picks the policy when claiming: an unchecked kind runs without a click, the daily limit refuses the next; Activity shows it all', async ({
  openVault,
  openPopup,
  serviceWorker,
  hub,
  scratch,
}) => {
  const vault = await openVault();
  await setUpVaultAndEnroll(vault, hub, [SECRET]);
  const agent = await registerAgent(hub, scratch, 'research-bot', SCOPES);

  // Claim with "Ask me before: action.approve" unchecked and a daily limit of 2.
  await vault.getByLabel('Claim code').fill(agent.claim_code);
  await vault.getByRole('button', { name: 'Look up' }).click();
  const preview = vault.getByRole('group', { name: 'Agent to claim' });
  await expect(preview.getByText(agent.fingerprint)).toBeVisible();
  const askSecret = preview.getByRole('checkbox', { name: 'Ask me before: secret.request' });
  await expect(askSecret).toBeChecked();
  await expect(askSecret).toBeDisabled();
  await expect(preview.getByText('only this device can open your vault')).toBeVisible();
  // So is an HTTPS call with your secrets (issue 18): only this device holds them and makes the call.
  const askCall = preview.getByRole('checkbox', { name: 'Ask me before: http.request' });
  await expect(askCall).toBeChecked();
  await expect(askCall).toBeDisabled();
  for (const kind of ['action.approve', 'payment.send', 'shell.exec', 'message.send']) {
    await expect(preview.getByRole('checkbox', { name: `Ask me before: ${kind}` })).toBeChecked();
  }
  await preview.getByRole('checkbox', { name: 'Ask me before: action.approve' }).uncheck();
  await preview.getByLabel('Daily limit (requests per day)').fill('2');
  for (const s of SCOPES) await preview.getByRole('checkbox', { name: s }).check();
  await vault.getByRole('button', { name: 'Claim agent' }).click();
  await expect(vault.getByRole('region', { name: 'Claim an agent' }).getByRole('status')).toContainText(
    'Claimed research-bot',
  );

  // The agent verifies the signed claim: action.approve is not in approval_required any more.
  const status = await runCli(['agent', 'status', '--state', agent.state, '--json']);
  expect(status.code, status.stderr).toBe(0);
  expect(JSON.parse(status.stdout).approval_required).toEqual([
    'http.request',
    'message.send',
    'payment.send',
    'secret.request',
    'shell.exec',
  ]);

  // Request 1: approved by the signed policy, no click.
  const first = await runCli(['agent', 'request', ...ACTION, '--state', agent.state, '--timeout', '30']);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toContain('was not required by the signed policy');

  // Request 2: a secret still needs the click.
  const run = spawnCli([
    'agent',
    'secret',
    SECRET.name,
    '--state',
    agent.state,
    '--reason',
    'fetch papers',
    '--timeout',
    '60',
  ]);
  try {
    await waitUntilWaiting(run);
    await expect.poll(() => badgeText(serviceWorker), { timeout: 20_000 }).toBe('1');
    const popup = await openPopup();
    const card = popup.getByRole('region', { name: 'Pending requests' });
    await expect(card.getByText(`the secret ${SECRET.name}`)).toBeVisible();
    await card.getByRole('button', { name: 'Approve' }).click();
    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(SECRET.value);
  } finally {
    await stopProcess(run.child);
  }

  // Request 3 within the day: refused by the daily limit (rate_limited is exit 1).
  const third = await runCli(['agent', 'request', ...ACTION, '--state', agent.state, '--timeout', '30', '--json']);
  expect(third.code, third.stderr).toBe(1);
  // Our own words for the code, never the hub's (issue 13 item 16).
  expect(JSON.parse(third.stdout).error).toEqual({ code: 'rate_limited', message: hubErrorText('rate_limited') });

  // Activity: the claim, the requests and the approvals, in plain words, newest first; the chain head below.
  await vault.getByRole('tab', { name: 'Activity' }).click();
  const list = vault.getByRole('list', { name: 'Activity entries' });
  await expect(list.getByText('You claimed research-bot')).toBeVisible();
  await expect(list.getByText(`research-bot asked for the secret “${SECRET.name}”`)).toBeVisible();
  await expect(list.getByText(`You approved research-bot's request for the secret “${SECRET.name}”`)).toBeVisible();
  await expect(list.getByText(/^research-bot asked for “x”/)).toBeVisible();
  await expect(list.getByText(/^The hub approved research-bot's request for “x”.*without asking/)).toBeVisible();
  // The third request, refused by the daily limit, is listed too, in words (issue 15).
  await expect(list.getByText('Refused research-bot: it asked too often (rate limit)')).toBeVisible();
  const texts = await list.locator('li').allInnerTexts();
  const at = (s: string) => texts.findIndex((t) => t.includes(s));
  expect(at('You approved')).toBeLessThan(at('You claimed'));
  await expect(vault.getByLabel('Audit chain head')).toContainText(/#\d+: [0-9a-f]{64}/);
  // Everything fits on one page here.
  await expect(vault.getByRole('button', { name: 'Load more' })).toHaveCount(0);
});
