import { readFileSync } from 'node:fs';
import {
  badgeText,
  claimAgent,
  hubFiles,
  registerAgent,
  setUpVaultAndEnroll,
  spawnCli,
  stopProcess,
  test,
  expect,
  waitUntilWaiting,
} from './hub';

// A value unique to this run, so a hit in any file can only come from this test.
const SECRET = { name: 'arxiv-key', value: `arxiv-cli-${crypto.randomUUID()}`, notes: 'papers only', tags: 'research' };
const SCOPE = `secret:read:${SECRET.name}`;

/** The secret as plaintext and in the encodings a leak would most likely take. */
function encodings(value: string): string[] {
  const b = Buffer.from(value, 'utf8');
  return [
    value,
    b.toString('base64'),
    b.toString('base64url'),
    b.toString('hex'),
    Buffer.from(value, 'utf16le').toString('latin1'),
  ];
}

function expectAbsent(haystack: Buffer | string, where: string): void {
  const bytes = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack;
  for (const needle of encodings(SECRET.value)) {
    expect(bytes.includes(Buffer.from(needle, 'latin1')), `the secret (as ${needle.slice(0, 6)}…) is in ${where}`).toBe(
      false,
    );
  }
}

test('the real agent CLI gets a secret with one click in the popup; the hub never sees the value', async ({
  openVault,
  openPopup,
  serviceWorker,
  hub,
  scratch,
}) => {
  const vault = await openVault();
  const deviceFingerprint = await setUpVaultAndEnroll(vault, hub, [SECRET]);
  const agent = await registerAgent(hub, scratch, 'research-bot', [SCOPE]);
  await claimAgent(vault, agent, [SCOPE]);

  // The agent asks for the secret from the command line and blocks until the human decides.
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
    await expect(card.getByText('research-bot', { exact: true })).toBeVisible();
    await expect(card.getByText(agent.fingerprint)).toBeVisible();
    await expect(card.getByText(`the secret ${SECRET.name}`)).toBeVisible();
    await expect(card.getByText('fetch papers')).toBeVisible();
    await expect(card.getByText(`Approving as ${deviceFingerprint}`)).toBeVisible();

    const clickedAt = performance.now();
    await card.getByRole('button', { name: 'Approve' }).click();
    const result = await run.result;
    // Reported, not asserted (tests never assert timings): the CLI long-polls, so this is one hub round trip or so.
    console.log(`click → \`clawkeep agent secret\` exit: ${Math.round(result.exitedAt - clickedAt)} ms`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(SECRET.value);
    expect(result.stderr).toContain(`Approved: "${SECRET.name}" delivered`);
    await expect(card).toHaveCount(0);
    await expect.poll(() => badgeText(serviceWorker)).toBe('');
  } finally {
    await stopProcess(run.child);
  }

  // The hub relayed only ciphertext: not in its database files while it runs (WAL included), not in its log,
  // not in the files it leaves after a clean shutdown. The agent's state file holds keys, never the value.
  const running = hubFiles(hub);
  expect([...running.keys()]).toContain('hub.sqlite');
  for (const [file, bytes] of running) expectAbsent(bytes, `${file} (hub running)`);
  await stopProcess(hub.child);
  for (const [file, bytes] of hubFiles(hub)) expectAbsent(bytes, `${file} (hub stopped)`);
  const log = hub.log();
  expect(log).toContain('listening on');
  expect(log).toMatch(/"path":"\/v1\/intents\/[^"]+\/execute","status":200/);
  expectAbsent(log, 'the hub log');
  expectAbsent(readFileSync(agent.state), 'the agent state file');
});
