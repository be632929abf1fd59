import { readFileSync } from 'node:fs';
import { addAgentConfig } from './helpers';
import { claimAgent, expect, hubFiles, registerAgent, runCli, setUpVaultAndEnroll, stopProcess, test } from './hub';

// Values unique to this run, so a hit in any file can only come from this test.
const run = crypto.randomUUID().slice(0, 8);
const SECRET = { name: 'unrelated-secret', value: `vault-secret-${run}`, notes: `notes-${run}`, tags: '' };
const CONFIG = {
  name: `research-config-${run}`,
  model: `model-${run}`,
  providerKey: { key: 'OPENAI_API_KEY', value: `sk-first-${run}` },
  env: { key: 'REGION', value: `region-first-${run}` },
};
const EDITED = { model: `model-edited-${run}`, providerKey: `sk-second-${run}`, env: `region-second-${run}` };

/** A plaintext and the encodings a leak would most likely take. */
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

function expectNoPlaintext(haystack: Buffer, where: string, values: string[]): void {
  for (const value of values) {
    for (const needle of encodings(value)) {
      expect(
        haystack.includes(Buffer.from(needle, 'latin1')),
        `${value.slice(0, 12)}… (as ${needle.slice(0, 8)}…) is in ${where}`,
      ).toBe(false);
    }
  }
}

test('assign an agent config in the Agents tab: `agent config --env` prints it, an edit arrives as a new revision, the hub holds no plaintext', async ({
  openVault,
  hub,
  scratch,
}) => {
  const vault = await openVault();
  await setUpVaultAndEnroll(vault, hub, [SECRET]);
  const agent = await registerAgent(hub, scratch, 'research-bot', []);
  await claimAgent(vault, agent, []);
  await vault.getByRole('tab', { name: 'Items' }).click();
  await addAgentConfig(vault, CONFIG);

  // Assign it to the claimed agent.
  await vault.getByRole('tab', { name: 'Agents' }).click();
  const section = vault.getByRole('region', { name: 'Agent configs' });
  await section.getByLabel('Config for research-bot').selectOption({ label: CONFIG.name });
  await section.getByRole('button', { name: 'Assign config to research-bot' }).click();
  await expect(section.getByRole('status')).toContainText('Delivered revision 1 to research-bot');
  await expect(section.getByTestId('config-delivery-status')).toContainText(
    `Delivered revision 1 of “${CONFIG.name}” to research-bot`,
  );

  const env = await runCli(['agent', 'config', '--state', agent.state, '--env']);
  expect(env.code, env.stderr).toBe(0);
  expect(env.stdout).toBe(
    `${CONFIG.providerKey.key}=${CONFIG.providerKey.value}\n${CONFIG.env.key}=${CONFIG.env.value}\n`,
  );
  expect(env.stderr).toContain('revision 1 verified');

  // Edit the config: the background seals and delivers the new revision by itself.
  await vault.getByRole('tab', { name: 'Items' }).click();
  await vault
    .getByRole('list', { name: 'Items' })
    .getByRole('button', { name: new RegExp(CONFIG.name) })
    .click();
  await vault.getByRole('button', { name: 'Edit' }).click();
  await vault.getByLabel('Model').fill(EDITED.model);
  await vault.getByLabel('Provider key 1 value').fill(EDITED.providerKey);
  await vault.getByLabel('Env var 1 value').fill(EDITED.env);
  await vault.getByRole('button', { name: 'Save' }).click();
  let latest: { revision?: number; config?: { model: string } } = {};
  await expect
    .poll(
      async () => {
        const r = await runCli(['agent', 'config', '--state', agent.state, '--json']);
        latest = r.code === 0 ? JSON.parse(r.stdout) : {};
        return latest.revision ?? 0;
      },
      { timeout: 30_000 },
    )
    .toBeGreaterThan(1);
  expect(latest.config!.model).toBe(EDITED.model);
  const env2 = await runCli(['agent', 'config', '--state', agent.state, '--env']);
  expect(env2.stdout).toBe(`${CONFIG.providerKey.key}=${EDITED.providerKey}\n${CONFIG.env.key}=${EDITED.env}\n`);
  await vault.getByRole('tab', { name: 'Agents' }).click();
  await expect(section.getByTestId('config-delivery-status')).toContainText(
    `Delivered revision ${latest.revision} of “${CONFIG.name}”`,
  );

  // Every file in the hub's data directory (database, WAL), and its log: no plaintext of any item, config or key.
  const state = JSON.parse(readFileSync(agent.state, 'utf8')) as { signing_private: string; box_private: string };
  const plaintexts = [
    SECRET.value,
    SECRET.notes,
    CONFIG.name,
    CONFIG.model,
    CONFIG.providerKey.value,
    CONFIG.env.value,
    EDITED.model,
    EDITED.providerKey,
    EDITED.env,
    Buffer.from(state.signing_private, 'base64url').toString('latin1'),
    Buffer.from(state.box_private, 'base64url').toString('latin1'),
  ];
  const files = hubFiles(hub);
  expect([...files.keys()]).toContain('hub.sqlite');
  // What the hub does hold: the sealed blobs (so the scan reads the right bytes).
  expect([...files.values()].some((bytes) => bytes.includes(Buffer.from('CKSC\x01', 'latin1')))).toBe(true);
  for (const [file, bytes] of files) expectNoPlaintext(bytes, `${file} (hub running)`, plaintexts);
  expectNoPlaintext(Buffer.from(hub.log()), 'the hub log', plaintexts);

  // Unassign: the agent has no config any more.
  await section.getByRole('button', { name: 'Unassign config from research-bot' }).click();
  await expect(section.getByRole('status')).toContainText('research-bot has no config now');
  const gone = await runCli(['agent', 'config', '--state', agent.state, '--env']);
  expect(gone.code).toBe(1);
  expect(gone.stdout).toBe('');
  expect(gone.stderr).toContain('config_not_assigned');

  await stopProcess(hub.child);
  for (const [file, bytes] of hubFiles(hub)) expectNoPlaintext(bytes, `${file} (hub stopped)`, plaintexts);
});
