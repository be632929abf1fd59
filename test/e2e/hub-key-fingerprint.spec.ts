import { mkdirSync } from 'node:fs';
import { expect, setUpVaultAndEnroll, test } from './hub';

// Issue 13 items 8 and 15: the extension pins the hub's identity key at enrolment. The Agents tab shows its
// fingerprint ("Hub key fingerprint"), formatted exactly like the `Hub identity: …` line `clawkeep hub` prints, so the
// person can compare the two. Before enrolment nothing is pinned and nothing is shown.

const SHOTS = process.env.CLAWKEEP_SHOTS_DIR;

test('the Agents tab shows the pinned hub key fingerprint, the same one clawkeep hub printed', async ({
  openVault,
  hub,
}) => {
  const printed = /Hub identity: (\S+)/.exec(hub.log())?.[1];
  expect(printed, hub.log()).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/);
  const vault = await openVault();
  await setUpVaultAndEnroll(vault, hub, []);
  const hubCard = vault.getByRole('region', { name: 'Hub' });
  await expect(hubCard.getByText('Hub key fingerprint:')).toBeVisible();
  await expect(hubCard.getByText('Hub key fingerprint:').locator('code')).toHaveText(printed!);
  await expect(hubCard).toContainText('“Hub identity” line that clawkeep hub prints');
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    for (const width of [360, 1280]) {
      await vault.setViewportSize({ width, height: 900 });
      await hubCard.scrollIntoViewIfNeeded();
      await vault.screenshot({ path: `${SHOTS}/hub-key-fingerprint-${width}.png` });
    }
  }
});
