import { mkdirSync } from 'node:fs';
import { expect, test } from './fixtures';
import { startJoin } from './devices';
import { claimAgent, proxiedHub, registerAgent, setUpVaultAndEnroll } from './hub';

// Issue 13 "Must show" 3: with the built extension behind a MaliciousHub proxy (the real hub runs with
// --public-origin <proxy>), claiming and pairing take one look and one click while the proxy is honest, and both
// refuse a box key the proxy swapped, with the message where the fingerprint is shown.

const SHOTS = '/tmp/i13-keybind-shots';
const otherBoxKey = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');

test('claim through a hub proxy: one look and one click honestly; a swapped agent box key is refused, no Claim possible', async ({
  openVault,
}, testInfo) => {
  const { evil, via, close } = await proxiedHub();
  const scratch = testInfo.outputPath('scratch');
  mkdirSync(scratch, { recursive: true });
  try {
    const vault = await openVault();
    await setUpVaultAndEnroll(vault, via, []);
    // (a) honest: the fingerprint the CLI printed, each scope checked, one click.
    const honest = await registerAgent(via, scratch, 'honest-bot', ['action:action.approve']);
    await claimAgent(vault, honest, ['action:action.approve']);

    // (b) the proxy swaps the box key secrets would be sealed to.
    const agent = await registerAgent(via, scratch, 'swapped-bot', ['action:action.approve']);
    evil.rewriteJson('POST /v1/claims/lookup', (json) => void (json.box_key = otherBoxKey()));
    await vault.getByLabel('Claim code').fill(agent.claim_code);
    await vault.getByRole('button', { name: 'Look up' }).click();
    const preview = vault.getByRole('group', { name: 'Agent to claim' });
    await expect(preview.getByText(agent.fingerprint)).toBeVisible();
    await expect(preview.getByTestId('claim-key-problem')).toContainText(
      "The hub changed this agent's key — do not claim.",
    );
    await expect(vault.getByRole('button', { name: 'Claim agent' })).toHaveCount(0);
    for (const width of [360, 1280]) {
      await vault.setViewportSize({ width, height: 900 });
      await preview.screenshot({ path: `${SHOTS}/claim-refused-${width}.png` });
    }
    expect(evil.exchanges.filter((e) => e.request.method === 'POST' && e.request.path === '/v1/claims')).toHaveLength(
      1,
    ); // the honest claim only
  } finally {
    await close();
  }
});

test('pairing through a hub proxy: one click honestly; a swapped box key shows "The hub changed this device\'s key — do not approve." and cannot be approved', async ({
  context,
  openVault,
  webVault,
}) => {
  const { evil, via, close } = await proxiedHub([new URL(webVault.url).origin]);
  try {
    const a = await openVault();
    await setUpVaultAndEnroll(a, via, []);
    const devices = a.getByRole('region', { name: 'Devices' });

    // (c) swapped: the new device (the web vault) asks to pair; the proxy swaps its box key in A's lookup.
    const b = await context.newPage();
    await b.goto(webVault.url);
    const { code, fingerprint } = await startJoin(b, via.url, 'Web vault e2e');
    const attack = evil.rewriteJson('POST /v1/pairings/lookup', (json) => void (json.box_key = otherBoxKey()));
    await a.bringToFront();
    await devices.getByLabel('Pairing code').fill(code);
    await devices.getByRole('button', { name: 'Add a device' }).click();
    await expect(devices.getByTestId('pairing-fingerprint')).toHaveText(fingerprint);
    await expect(devices.getByTestId('pairing-key-problem')).toHaveText(
      "The hub changed this device's key — do not approve.",
    );
    await expect(devices.getByRole('button', { name: 'Approve device' })).toBeDisabled();
    for (const width of [360, 1280]) {
      await a.setViewportSize({ width, height: 900 });
      await devices.screenshot({ path: `${SHOTS}/pairing-refused-${width}.png` });
    }
    expect(evil.exchanges.filter((e) => /^\/v1\/pairings\/[^/]+\/approve$/.test(e.request.path))).toHaveLength(0);

    // Honest again: the same code, one click approves.
    attack.stop();
    await devices.getByRole('button', { name: 'Add a device' }).click();
    await expect(devices.getByTestId('pairing-key-problem')).toHaveCount(0);
    await devices.getByRole('button', { name: 'Approve device' }).click();
    await expect(devices.getByRole('status')).toContainText(`Device ${fingerprint} added`);
  } finally {
    await close();
  }
});
