import { expect, type Page } from '@playwright/test';

// Pairing a new device from the UI, shared by the pairing and sync e2e tests: the new device's first run (B), the
// approving device's Agents tab (A), then B's own passphrase.

/** B: first run → "Join an existing vault" → hub URL and name → "Get a pairing code". Returns what B shows. */
export async function startJoin(b: Page, hubUrl: string, name: string): Promise<{ code: string; fingerprint: string }> {
  await b.getByRole('button', { name: 'Join an existing vault' }).click();
  await b.getByLabel('Hub URL').fill(hubUrl);
  await b.getByLabel('Name of this device').fill(name);
  await b.getByRole('button', { name: 'Get a pairing code' }).click();
  const code = (await b.getByTestId('pairing-code').textContent())!.trim();
  const fingerprint = (await b.getByTestId('device-fingerprint').textContent())!.trim();
  return { code, fingerprint };
}

/** A: Agents → Devices → the code; checks the looked-up fingerprint is B's, then one click "Approve device". */
export async function approveDevice(a: Page, code: string, fingerprint: string): Promise<void> {
  await a.bringToFront();
  const devices = a.getByRole('region', { name: 'Devices' });
  await devices.getByLabel('Pairing code').fill(code);
  await devices.getByRole('button', { name: 'Add a device' }).click();
  await expect(devices.getByTestId('pairing-fingerprint')).toHaveText(fingerprint);
  await devices.getByRole('button', { name: 'Approve device' }).click();
  await expect(devices.getByRole('status')).toContainText(`Device ${fingerprint} added`);
}

/** B: approved → checks the approver's fingerprint → "Choose a passphrase for this device" → the vault opens. */
export async function finishJoin(b: Page, passphrase: string, approverFingerprint: string): Promise<void> {
  await b.bringToFront();
  await expect(b.getByRole('heading', { name: 'Choose a passphrase for this device' })).toBeVisible({
    timeout: 15_000,
  });
  // Mutual check: B names the device that approved it.
  await expect(b.getByTestId('approved-by')).toHaveText(approverFingerprint);
  await b.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await b.getByLabel('Repeat passphrase').fill(passphrase);
  await b.getByRole('button', { name: 'Join vault' }).click();
  await expect(b.getByRole('button', { name: 'Lock now' })).toBeVisible({ timeout: 15_000 });
}
