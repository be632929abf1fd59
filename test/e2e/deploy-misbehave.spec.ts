import { rmSync } from 'node:fs';
import { test, type BrowserContext, type Page } from '@playwright/test';
import type { TrustCheckId } from '../../lib/seal/trust-gate';
import { MISBEHAVIOURS, type CvmSimulator, type Misbehaviour } from '../../sim/cvm';
import {
  apiKeyStep,
  creations,
  envBearing,
  expect,
  freshValues,
  provisionedAppId,
  seedVault,
  simEnv,
  simOrigin,
  simReceived,
  startSimulator,
  trustStep,
} from './deploy-helpers';
import { extensionServiceWorker, launchWithExtension, TEST_EXTENSION_DIR } from './fixtures';

// Must show 3: for each misbehaviour switch of the CVM simulator the wizard stops at "Verify attestation", before
// sealing, names the failed check in visible text, and the simulator received no env at all (the CVM was created
// without any: no request body carries encrypted_env, no env update was sent). The secret-less CVM is offered for
// destruction. One browser and one
// simulator for the whole file: the wizard stays on its Deploy step and each test flips the switch and retries.

const EXPECTED_CHECK: Record<Misbehaviour, TrustCheckId> = {
  'wrong-measurement': 'os-image',
  'compose-mismatch': 'compose-hash',
  'unsigned-env-key': 'env-key-signature',
  'unbound-env-key': 'env-key-signature',
  'bad-kms-signature': 'env-key-signature',
  'debug-td': 'quote',
  'stale-collateral': 'quote',
  'replayed-quote': 'report-data',
};
// …and what the message says went wrong, so two switches tripping the same check are still told apart.
const EXPECTED_WHY: Record<Misbehaviour, RegExp> = {
  'wrong-measurement': /OS image not allowed/,
  'compose-mismatch': /Compose hash mismatch/,
  'unsigned-env-key': /no signature/,
  'unbound-env-key': /not signed by the trusted KMS/,
  'bad-kms-signature': /KMS signature|not signed by the trusted KMS/,
  'debug-td': /debug mode/,
  'stale-collateral': /expired/,
  'replayed-quote': /Report data mismatch/,
};
// stale-collateral first: any other attempt caches current collateral in the page's IndexedDB, which a client
// rightly prefers to the PCCS's expired copy.
const ORDER = [...MISBEHAVIOURS].sort((a, b) => Number(b === 'stale-collateral') - Number(a === 'stale-collateral'));

test.describe.configure({ mode: 'serial' });

let sim: CvmSimulator;
let context: BrowserContext;
let profileDir: string;
let page: Page;

test.beforeAll(async () => {
  test.setTimeout(90_000);
  sim = await startSimulator();
  ({ context, profileDir } = await launchWithExtension(undefined, TEST_EXTENSION_DIR));
  const extensionId = new URL((await extensionServiceWorker(context)).url()).host;
  page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/vault.html`);
  await seedVault(page, freshValues());
  await apiKeyStep(page, sim);
  await page.getByRole('button', { name: 'Continue' }).click();
  await trustStep(page, sim);
});

test.afterAll(async () => {
  await context?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await sim?.close();
});

const setMode = (mode: string) =>
  fetch(`${simOrigin(sim)}/_sim/misbehave`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode }),
  });

for (const mode of ORDER) {
  const check = EXPECTED_CHECK[mode];
  test(`${mode}: stops before sealing, names the “${check}” check, the simulator received no env`, async () => {
    expect((await setMode(mode)).ok).toBe(true);
    const before = (await simReceived(sim)).length;
    // After a refusal the primary action goes back; deploying again (a new CVM) is the secondary button.
    await page.getByRole('button', { name: /^(Deploy|Deploy again \(new CVM\))$/ }).click();

    const alert = page.locator('.deploy-wizard p.alert-error[role="alert"]');
    await expect(alert).toContainText(`Failed check “${check}”`, { timeout: 30_000 });
    await expect(alert).toContainText(EXPECTED_WHY[mode]);
    await expect(alert).toContainText('No secret was sealed or sent.');
    // Stopped at "Verify attestation": sealing and everything after it never ran.
    const steps = page.getByRole('list', { name: 'Deploy progress' });
    await expect(steps.locator('[data-step="provision"]')).toHaveAttribute('data-state', 'done');
    await expect(steps.locator('[data-step="start"]')).toHaveAttribute('data-state', 'done');
    await expect(steps.locator('[data-step="start"]')).toContainText('Start (no secrets yet)');
    await expect(steps.locator('[data-step="verify"]')).toHaveAttribute('data-state', 'failed');
    for (const later of ['seal', 'health'])
      await expect(steps.locator(`[data-step="${later}"]`)).toHaveAttribute('data-state', 'skipped');
    // The verdict and the failed check, as the user reads them.
    await expect(page.getByText(`Not trusted: failed check “${check}”`)).toBeVisible();
    await expect(page.locator(`.deploy-trust li[data-check="${check}"]`)).toHaveClass(/tee-no/);

    // Nothing that carries env reached the simulator, and its CVM holds none.
    const received = (await simReceived(sim)).slice(before);
    expect(received.some((r) => r.path.endsWith('/cvms/provision'))).toBe(true);
    expect(creations(received)).toHaveLength(1);
    expect(envBearing(received)).toEqual([]);
    expect(received.filter((r) => r.body.includes('encrypted_env'))).toEqual([]);
    expect(await simEnv(sim, await provisionedAppId(page))).toBeNull();
    // The CVM that exists without secrets can be destroyed from the failure view.
    await expect(
      page.getByRole('group', { name: 'Untrusted CVM' }).getByRole('button', { name: 'Destroy' }),
    ).toBeVisible();
    // Issue 15: the refusal sentence is said once (not again in the trust report or the certificate), and the
    // primary action after a refusal does not provision another CVM.
    await expectRefusalOnce(page);
    await expect(page.locator('.deploy-wizard button.primary')).toHaveText(['Back to the trust settings']);
    await expect(page.getByRole('button', { name: 'Deploy again (new CVM)' })).not.toHaveClass(/primary/);
  });
}

/** The refusal's own sentence (the alert minus "Failed check “id” (label): " and the closing note) appears once. */
async function expectRefusalOnce(p: Page): Promise<void> {
  const alert = (await p.locator('.deploy-wizard p.alert-error[role="alert"]').innerText()).trim();
  const sentence = alert
    .replace(/^Failed check “[^”]+”(?: \([^)]*\))?: /, '')
    .replace(/ No secret was sealed or sent\.$/, '')
    .trim();
  expect(sentence.length).toBeGreaterThan(10);
  const text = await p.locator('body').innerText();
  expect(text.split(sentence).length - 1, `"${sentence}" is shown once`).toBe(1);
}

test('leaving the Deploy tab and coming back keeps the wizard where it was: the refusal, the progress, the untrusted CVM', async () => {
  const alert = page.locator('.deploy-wizard p.alert-error[role="alert"]');
  const before = await alert.innerText();
  const cvmId = await page.getByRole('group', { name: 'Untrusted CVM' }).locator('code').textContent();
  await page.getByRole('tab', { name: 'Items' }).click();
  await expect(page.locator('.deploy-wizard')).toHaveCount(0);
  await page.getByRole('tab', { name: 'Deploy' }).click();
  await expect(page.getByRole('heading', { name: 'Deploy', exact: true })).toBeVisible();
  await expect(page.locator('.deploy-wizard-nav [aria-current="step"]')).toHaveText('4. Deploy');
  await expect(alert).toHaveText(before);
  await expect(page.getByRole('list', { name: 'Deploy progress' }).locator('[data-step="verify"]')).toHaveAttribute(
    'data-state',
    'failed',
  );
  await expect(page.getByRole('group', { name: 'Untrusted CVM' }).locator('code')).toHaveText(cvmId!);
  await expectRefusalOnce(page);
  await expect(page.locator('.deploy-wizard button.primary')).toHaveText(['Back to the trust settings']);
  const shots = process.env.CLAWKEEP_SHOTS_DIR;
  if (shots) {
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: width === 360 ? 740 : 800 });
      await alert.scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${shots}/deploy-refusal-${width}.png`, fullPage: false });
    }
  }
});

test('the untrusted CVM left by a refused deploy is destroyed from the failure view', async () => {
  const group = page.getByRole('group', { name: 'Untrusted CVM' });
  const cvmId = (await group.locator('code').textContent())!.trim();
  await group.getByRole('button', { name: 'Destroy' }).click();
  await expect(page.getByText('The untrusted CVM was destroyed.')).toBeVisible();
  const gone = await fetch(`${sim.apiUrl}/cvms/${cvmId}`, { headers: { 'x-api-key': sim.apiKey } });
  expect(gone.status).toBe(404);
});
