import type { CvmSimulator } from '../../sim/cvm';
import {
  apiKeyStep,
  envBearing,
  freshValues,
  provisionedAppId,
  seedVault,
  simEnv,
  simReceived,
  startSimulator,
} from './deploy-helpers';
import { expect, test } from './fixtures';

// The PRODUCTION extension build (.output/chrome-mv3) against the same simulator: even with the simulator's test
// root stored in the user's trust pins, the verifier of a build for users refuses it, and nothing is sealed.

let sim: CvmSimulator;
test.beforeAll(async () => {
  sim = await startSimulator();
});
test.afterAll(async () => sim?.close());

test('production build: the wizard stops at attestation, the simulator’s test root is refused, no env is sent', async ({
  openVault,
}) => {
  test.setTimeout(90_000);
  const page = await openVault();
  await seedVault(page, freshValues());
  // Trust pins as the Deploy tab stores them (a tagged vault secret), including a test root the UI of this build
  // does not even offer.
  const pins = {
    kms: { id: sim.kms.id, slug: sim.kms.slug, k256Pubkey: sim.kms.k256Pubkey, caPubkey: sim.kms.caPubkey },
    osImages: [{ name: sim.osImage.name, version: sim.osImage.version, ...sim.osImage.measurement }],
    pccsUrl: sim.pccsUrl,
    testRootDerHex: Buffer.from(sim.testRootDer).toString('hex'),
  };
  // Saved through the vault service the way the Deploy tab saves them (lib/deploy/vault-records.ts): the secret
  // editor refuses clawkeep: tags since issue 15, and Items no longer lists such records.
  const saved = await page.evaluate(
    async (draft) => {
      const { chrome } = globalThis as unknown as {
        chrome: { runtime: { sendMessage(m: unknown): Promise<{ ok: boolean }> } };
      };
      return chrome.runtime.sendMessage({ channel: 'clawkeep.vault.rpc', method: 'save', args: [{ draft }] });
    },
    {
      kind: 'secret',
      fields: {
        name: 'Deploy trust pins',
        value: JSON.stringify(pins),
        notes: '',
        tags: ['clawkeep:deploy-trust'],
        expiresAt: null,
      },
    },
  );
  expect(saved.ok).toBe(true);

  await apiKeyStep(page, sim);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Trust' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Published KMS' })).toContainText('Pinned ✓');
  await expect(page.getByLabel('Test root certificate (hex DER, test builds only)')).toHaveCount(0);
  await page.getByRole('button', { name: 'Continue to deploy' }).click();

  const before = (await simReceived(sim)).length;
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  const alert = page.locator('.deploy-wizard p.alert-error[role="alert"]');
  await expect(alert).toContainText('Failed check “quote”', { timeout: 30_000 });
  await expect(alert).toContainText('a test trust anchor was refused');
  await expect(page.getByRole('list', { name: 'Deploy progress' }).locator('[data-step="start"]')).toHaveAttribute(
    'data-state',
    'done',
  );
  await expect(page.getByRole('list', { name: 'Deploy progress' }).locator('[data-step="verify"]')).toHaveAttribute(
    'data-state',
    'failed',
  );
  await expect(page.getByRole('list', { name: 'Deploy progress' }).locator('[data-step="seal"]')).toHaveAttribute(
    'data-state',
    'skipped',
  );
  expect(envBearing((await simReceived(sim)).slice(before))).toEqual([]);
  expect(await simEnv(sim, await provisionedAppId(page))).toBeNull();
});
