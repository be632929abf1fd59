import { rmSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, extensionServiceWorker, launchWithExtension, test } from './fixtures';
import { approveDevice, finishJoin, startJoin } from './devices';
import { setUpVaultAndEnroll, startHub, stopHub } from './hub';
import { dumpIndexedDb, expectNoneOf, expectSecretIntact, PASSPHRASE, unlock } from './helpers';

const SECRET = { name: 'GitHub token', value: 'ghp_pairing_e2e_5b2c81', notes: 'paired device check', tags: 'dev' };
const B_PASSPHRASE = 'copper-lantern-meadow-17';

/** Every item record of a page's vault IndexedDB, envelopes as plain number arrays (they cross the test process). */
const readItemRecords = (page: Page) =>
  page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('clawkeep-vault');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const rows = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
      const req = db.transaction('items').objectStore('items').getAll();
      req.onsuccess = () => resolve(req.result as Record<string, unknown>[]);
      req.onerror = () => reject(req.error);
    });
    db.close();
    return rows.map((r) => ({ ...r, envelope: Array.from(r.envelope as Uint8Array) }));
  });

test("the web vault joins the extension's vault with a code and one click, decrypts its records, and is refused once removed", async ({
  context,
  openVault,
  webVault,
}) => {
  const hub = await startHub([new URL(webVault.url).origin]);
  try {
    // Device A: the extension, with a vault holding a secret, enrolled at the hub.
    const a = await openVault();
    const fingerprintA = await setUpVaultAndEnroll(a, hub, [SECRET]);

    // Device B: the web vault, first run → Join an existing vault. It shows a code and its own fingerprint.
    const b = await context.newPage();
    await b.goto(webVault.url);
    const { code, fingerprint: fingerprintB } = await startJoin(b, hub.url, 'Web vault e2e');
    expect(code).toMatch(/^[B-Z]{4}-[B-Z]{4}$/);
    expect(fingerprintB).not.toBe(fingerprintA);

    // A: Agents → Devices → the code; the lookup shows B's fingerprint and name; one click approves.
    await a.bringToFront();
    const devices = a.getByRole('region', { name: 'Devices' });
    await devices.getByLabel('Pairing code').fill(code);
    await devices.getByRole('button', { name: 'Add a device' }).click();
    await expect(devices.getByTestId('pairing-fingerprint')).toHaveText(fingerprintB);
    await expect(devices.getByText('Web vault e2e')).toBeVisible();
    await devices.getByRole('button', { name: 'Approve device' }).click();
    await expect(devices.getByRole('status')).toContainText(`Device ${fingerprintB} added`);
    await expect(devices.getByRole('list', { name: 'Devices of this account' })).toContainText(fingerprintB);

    // B: approved → its own passphrase → its vault is open, under the same vault key as A's.
    await finishJoin(b, B_PASSPHRASE, fingerprintA);

    // The proof B holds A's vault key and id: A's CKIE record, copied byte for byte into B's IndexedDB, opens in B
    // (the envelope's AD binds the vault id, so a different vault would refuse it).
    const records = await readItemRecords(a);
    expect(records).toHaveLength(1);
    await b.evaluate(async (rows) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('clawkeep-vault');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('items', 'readwrite');
        for (const r of rows) tx.objectStore('items').put({ ...r, envelope: new Uint8Array(r.envelope) });
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    }, records);
    // A reload locks the web vault; B's passphrase (not A's) opens it, and the copied item decrypts.
    await b.reload();
    await unlock(b, PASSPHRASE);
    await expect(b.getByRole('alert')).toBeVisible();
    await unlock(b, B_PASSPHRASE);
    await expectSecretIntact(b, SECRET);

    // B is a device of A's account: its Devices tab lists both, chain-verified.
    await b.getByRole('tab', { name: 'Devices' }).click();
    const bList = b.getByRole('list', { name: 'Devices of this account' });
    await expect(bList).toContainText(fingerprintA);
    await expect(bList).toContainText(`${fingerprintB} (this device)`);

    // The joined web vault (every tab it has) fits a 390 px phone: nothing pushes the page sideways (issue 15).
    await b.setViewportSize({ width: 390, height: 844 });
    for (const name of await b.getByRole('tab').allTextContents()) {
      await b.getByRole('tab', { name, exact: true }).click();
      await expect(b.getByRole('tab', { name, exact: true })).toHaveAttribute('aria-selected', 'true');
      const { scrollWidth, clientWidth } = await b.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      expect(scrollWidth, `the ${name} tab at 390 px`).toBeLessThanOrEqual(clientWidth);
    }
    await b.getByRole('tab', { name: 'Devices', exact: true }).click();

    // A removes B; B's next signed request fails with the hub's revoked error, shown in B's UI.
    await a.bringToFront();
    const row = devices.getByRole('listitem').filter({ hasText: fingerprintB });
    await row.getByRole('button', { name: 'Remove device' }).click();
    await row.getByRole('button', { name: 'Yes, remove' }).click();
    await expect(devices.getByRole('status')).toContainText('Device removed');
    await b.bringToFront();
    await b.getByRole('button', { name: 'Refresh' }).click();
    await expect(b.getByRole('region', { name: 'Devices' }).getByRole('alert')).toContainText(
      'This device was removed from the account',
    );

    // Nothing secret reached the hub or B's storage in the clear.
    const { text } = await dumpIndexedDb(b);
    expectNoneOf(text, [SECRET.value, SECRET.name, B_PASSPHRASE]);
    expectNoneOf(hub.log(), [SECRET.value, code.replace('-', ''), B_PASSPHRASE]);
  } finally {
    await stopHub(hub);
  }
});

test('a second extension profile joins the same account: one-click approval, its own passphrase, it decrypts the vault; removed, its next request fails', async ({
  openVault,
}) => {
  const hub = await startHub();
  const second = await launchWithExtension();
  try {
    const a = await openVault();
    const fingerprintA = await setUpVaultAndEnroll(a, hub, [SECRET]);

    // B: a fresh extension profile, first run → Join an existing vault.
    const sw = await extensionServiceWorker(second.context);
    const b = await second.context.newPage();
    await b.goto(`chrome-extension://${new URL(sw.url()).host}/vault.html`);
    const { code, fingerprint: fingerprintB } = await startJoin(b, hub.url, 'Second profile');
    await approveDevice(a, code, fingerprintB);
    await finishJoin(b, B_PASSPHRASE, fingerprintA);

    // B decrypts A's vault: A's item reaches B through the hub as ciphertext (vault sync) and opens under B's key copy.
    await expect(
      b.getByRole('list', { name: 'Items' }).getByRole('button', { name: new RegExp(SECRET.name) }),
    ).toBeVisible({ timeout: 30_000 });
    await expectSecretIntact(b, SECRET);

    // B is enrolled as a device of A's account: its Agents tab lists both devices.
    await b.getByRole('tab', { name: 'Agents' }).click();
    const bDevices = b.getByRole('region', { name: 'Devices' });
    await expect(bDevices.getByRole('list', { name: 'Devices of this account' })).toContainText(fingerprintA);
    await expect(bDevices.getByRole('list', { name: 'Devices of this account' })).toContainText(
      `${fingerprintB} (this device)`,
    );

    // A removes B: B's next signed request (a lookup) fails with the revoked error in B's UI.
    await a.bringToFront();
    await a.reload();
    await a.getByRole('tab', { name: 'Agents' }).click();
    const row = a.getByRole('region', { name: 'Devices' }).getByRole('listitem').filter({ hasText: fingerprintB });
    await row.getByRole('button', { name: 'Remove device' }).click();
    await row.getByRole('button', { name: 'Yes, remove' }).click();
    await b.bringToFront();
    await bDevices.getByLabel('Pairing code').fill('BCDF-GHJK');
    await bDevices.getByRole('button', { name: 'Add a device' }).click();
    await expect(bDevices.getByRole('alert')).toContainText('This device was removed from the account');
  } finally {
    await second.context.close();
    rmSync(second.profileDir, { recursive: true, force: true });
    await stopHub(hub);
  }
});
