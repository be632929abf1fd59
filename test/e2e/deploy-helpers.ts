import type { Page } from '@playwright/test';
import { startCvmSimulator, type CvmSimulator } from '../../sim/cvm';
import { expect, TEST_EXTENSION_DIR, test as base } from './fixtures';
import { addAgentConfig, addSecret, createVault, PASSPHRASE } from './helpers';

/**
 * The deploy specs: the TEST build of the extension (test trust anchors honoured) against the CVM simulator,
 * started in this process, one per spec file. Values carry quotes, a backslash and non-ASCII so that their
 * JSON-escaped form differs from the raw one.
 */
export const testBuild = base.extend({
  // eslint-disable-next-line no-empty-pattern
  extensionDir: async ({}, use) => use(TEST_EXTENSION_DIR),
});

export { expect };

export const startSimulator = (): Promise<CvmSimulator> => startCvmSimulator({ startDelayMs: 300 });

/** Origin of the simulator (where /_sim lives). */
export const simOrigin = (sim: CvmSimulator): string => new URL(sim.apiUrl).origin;

export interface SeededValues {
  anthropicKey: string;
  gatewayToken: string;
}

export function freshValues(): SeededValues {
  const tag = Math.random().toString(36).slice(2, 10);
  return {
    anthropicKey: `sk-ant-e2e-${tag}-"q"\\b-ünï-中-0123456789`,
    gatewayToken: `gw-e2e-${tag}-tok/en+=-€`,
  };
}

/**
 * A new vault holding what a user would have: an agent config with the Anthropic key (found by its variable name)
 * and a secret named like the gateway token (found by its normalised name).
 */
export async function seedVault(page: Page, values: SeededValues): Promise<void> {
  await createVault(page, PASSPHRASE, 'floor');
  await addAgentConfig(page, {
    name: 'claude agent',
    model: 'claude-sonnet',
    providerKey: { key: 'ANTHROPIC_API_KEY', value: values.anthropicKey },
    env: { key: 'LOG_LEVEL', value: 'info' },
  });
  await addSecret(page, {
    name: 'openclaw-gateway-token',
    value: values.gatewayToken,
    notes: 'gateway',
    tags: 'openclaw',
  });
}

/** Step 1: paste the simulator's key (saved as a vault secret) and point the wizard at the simulator's API. */
export async function apiKeyStep(page: Page, sim: CvmSimulator): Promise<void> {
  await page.getByRole('tab', { name: 'Deploy' }).click();
  await expect(page.getByRole('heading', { name: 'Phala Cloud API key' })).toBeVisible();
  const source = page.getByLabel('API key', { exact: true });
  if ((await source.inputValue()) === '__paste__') await page.getByLabel('Paste the API key').fill(sim.apiKey);
  await page.getByLabel('API base URL').fill(sim.apiUrl);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Configure' })).toBeVisible();
}

/** Step 3: pin the simulator's KMS and OS image as published, its PCCS, and (test build) its test root. */
export async function trustStep(page: Page, sim: CvmSimulator, options: { testRoot?: boolean } = {}): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Trust' })).toBeVisible();
  // The simulator publishes one KMS.
  await page
    .getByRole('list', { name: 'Published KMS' })
    .getByRole('button', { name: /^Pin KMS / })
    .click();
  await expect(page.getByRole('list', { name: 'Published KMS' })).toContainText('Pinned ✓');
  await page.getByRole('button', { name: `Pin OS image ${sim.osImage.name} ${sim.osImage.version}` }).click();
  await page.getByLabel('PCCS URL').fill(sim.pccsUrl);
  if (options.testRoot !== false) {
    const rootHex = Buffer.from(sim.testRootDer).toString('hex');
    await page.getByLabel('Test root certificate (hex DER, test builds only)').fill(rootHex);
  }
  await page.getByRole('button', { name: 'Save trust settings' }).click();
  await expect(page.getByText('Trust settings saved in the vault.')).toBeVisible();
  await page.getByRole('button', { name: 'Continue to deploy' }).click();
  await expect(page.getByRole('heading', { name: 'Deploy', exact: true })).toBeVisible();
}

export interface Received {
  method: string;
  path: string;
  body: string;
}

export async function simReceived(sim: CvmSimulator): Promise<Received[]> {
  const res = await fetch(`${simOrigin(sim)}/_sim/received`);
  return ((await res.json()) as { requests: Received[] }).requests;
}

/** The env the simulator's CVM decrypted for `appId`, or null (404) when it received none. */
export async function simEnv(sim: CvmSimulator, appId: string): Promise<Array<{ key: string; value: string }> | null> {
  const res = await fetch(`${simOrigin(sim)}/_sim/env/${appId}`);
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  return ((await res.json()) as { env: Array<{ key: string; value: string }> }).env;
}

/** Requests that carry an env: any body with encrypted_env, or an env update. */
export const envBearing = (requests: Received[]): Received[] =>
  requests.filter((r) => (r.method === 'PATCH' && /\/envs$/.test(r.path)) || r.body.includes('encrypted_env'));

/** CVM creations (POST /cvms): the flow creates the CVM without any env, before attesting it. */
export const creations = (requests: Received[]): Received[] =>
  requests.filter((r) => r.method === 'POST' && /\/cvms$/.test(r.path));

/** Shows or hides the simulator's guest_agent_url (hidden = like real Phala Cloud: only the provider's attestation). */
export async function setGuestAgentExposed(sim: CvmSimulator, exposed: boolean): Promise<void> {
  const res = await fetch(`${simOrigin(sim)}/_sim/guest-agent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ exposed }),
  });
  expect(res.ok).toBe(true);
}

/** Every encoding a secret could leak in: raw UTF-8, base64 (std + url), hex (both cases), JSON-escaped, URI-encoded. */
export function encodings(value: string): string[] {
  const utf8 = Buffer.from(value, 'utf8');
  return [
    value,
    utf8.toString('base64'),
    utf8.toString('base64url'),
    utf8.toString('hex'),
    utf8.toString('hex').toUpperCase(),
    JSON.stringify(value).slice(1, -1),
    JSON.stringify(value)
      .slice(1, -1)
      .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    encodeURIComponent(value),
  ];
}

/** The app id the wizard shows once provisioning is done (`App <40 hex>`). */
export async function provisionedAppId(page: Page): Promise<string> {
  const detail = await page.locator('[data-step="provision"] .deploy-step-detail').textContent();
  const m = /([0-9a-f]{40})/.exec(detail ?? '');
  expect(m, `provision step detail "${detail}"`).not.toBeNull();
  return m![1]!;
}
