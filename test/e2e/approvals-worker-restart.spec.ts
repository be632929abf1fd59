import {
  badgeText,
  claimAgent,
  registerAgent,
  setUpVaultAndEnroll,
  spawnCli,
  stopProcess,
  test,
  expect,
  waitUntilWaiting,
} from './hub';

const SECRET = { name: 'restart-key', value: `restart-${crypto.randomUUID()}`, notes: 'n', tags: '' };
const SCOPE = `secret:read:${SECRET.name}`;

test('the live subscription survives an MV3 worker stop: a request made afterwards still reaches the badge and popup', async ({
  context,
  openVault,
  openPopup,
  serviceWorker,
  hub,
  scratch,
}) => {
  const vault = await openVault();
  await setUpVaultAndEnroll(vault, hub, [SECRET]);
  const agent = await registerAgent(hub, scratch, 'restart-bot', [SCOPE]);
  await claimAgent(vault, agent, [SCOPE]);
  // The installation record is vault data: the real chrome.storage.local names no agent, scope or item.
  const local = JSON.stringify(
    await serviceWorker.evaluate(() =>
      (
        globalThis as unknown as { chrome: { storage: { local: { get(k: null): Promise<object> } } } }
      ).chrome.storage.local.get(null),
    ),
  );
  for (const leak of ['restart-bot', SCOPE, SECRET.name]) expect(local).not.toContain(leak);

  // Stop the worker the way Chrome does when idle; module memory (and its open event stream) is gone.
  await serviceWorker.evaluate(() => ((globalThis as { e2eMarker?: number }).e2eMarker = 1));
  const cdp = await context.newCDPSession(vault);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await vault.close();

  // The agent asks while no page is open and the worker was stopped.
  const run = spawnCli([
    'agent',
    'secret',
    SECRET.name,
    '--state',
    agent.state,
    '--reason',
    'after restart',
    '--timeout',
    '60',
  ]);
  try {
    await waitUntilWaiting(run);
    const popup = await openPopup();
    expect(await serviceWorker.evaluate(() => (globalThis as { e2eMarker?: number }).e2eMarker)).toBeUndefined();
    await expect.poll(() => badgeText(serviceWorker), { timeout: 30_000 }).toBe('1');
    const card = popup.getByRole('region', { name: 'Pending requests' });
    await expect(card.getByText(`the secret ${SECRET.name}`)).toBeVisible({ timeout: 30_000 });
    await card.getByRole('button', { name: 'Approve' }).click();
    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(SECRET.value);
  } finally {
    await stopProcess(run.child);
  }
});
