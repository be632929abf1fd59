import { expect, test } from './fixtures';
import { startJoin } from './devices';
import { proxiedHub, setUpVaultAndEnroll } from './hub';

// Issue 13 item 9 with the built extension behind a MaliciousHub proxy: a device list entry the hub marks as removed
// without a removal signed by a device of the account is shown as the hub's unverified claim (and the device can
// still be removed for real); a real removal is one confirmation, signed by this device (CKDR), and shows as removed.

const SHOTS = '/tmp/i13-revoke-signed-shots';

test('a hub that claims a device was removed, without a signed removal, is not believed; a real removal takes one confirmation', async ({
  context,
  openVault,
  webVault,
}) => {
  const { evil, via, close } = await proxiedHub([new URL(webVault.url).origin]);
  try {
    const a = await openVault();
    await setUpVaultAndEnroll(a, via, []);
    const devices = a.getByRole('region', { name: 'Devices' });
    const b = await context.newPage();
    await b.goto(webVault.url);
    const { code, fingerprint } = await startJoin(b, via.url, 'Web vault e2e');
    await a.bringToFront();
    await devices.getByLabel('Pairing code').fill(code);
    await devices.getByRole('button', { name: 'Add a device' }).click();
    await devices.getByRole('button', { name: 'Approve device' }).click();
    await expect(devices.getByRole('status')).toContainText(`Device ${fingerprint} added`);

    // The hub says B was removed (revoked_at), with no removal any device signed.
    const forged = evil.rewriteJson('GET /v1/devices', (json) => {
      for (const d of json.devices) if (d.statement) d.revoked_at = Date.now();
    });
    await a.reload();
    await a.getByRole('tab', { name: 'Agents' }).click();
    const row = a.getByRole('region', { name: 'Devices' }).getByRole('listitem').filter({ hasText: fingerprint });
    await expect(row.getByRole('note')).toHaveText(
      /The hub says this device was removed, but shows no removal signed by one of your devices/,
    );
    await expect(row).not.toContainText('— removed');
    expect(forged.hits).toBeGreaterThan(0);
    for (const width of [360, 1280]) {
      await a.setViewportSize({ width, height: 900 });
      await a.getByRole('region', { name: 'Devices' }).screenshot({ path: `${SHOTS}/unverified-removal-${width}.png` });
    }

    // A real removal: one confirmation; this device signs it and the list shows it removed (the CKDR verifies).
    await row.getByRole('button', { name: 'Remove device' }).click();
    await row.getByRole('button', { name: 'Yes, remove' }).click();
    await expect(a.getByRole('region', { name: 'Devices' }).getByRole('status')).toContainText('Device removed');
    await expect(row).toContainText('— removed');
    await expect(row.getByRole('note')).toHaveCount(0);
    const sent = evil.last((r) => r.method === 'DELETE' && r.path.startsWith('/v1/devices/'))!;
    expect(JSON.parse(sent.request.body!).removal.statement).toMatchObject({
      hub: via.url,
      device_key_id: expect.any(String),
    });
    for (const width of [360, 1280]) {
      await a.setViewportSize({ width, height: 900 });
      await a.getByRole('region', { name: 'Devices' }).screenshot({ path: `${SHOTS}/signed-removal-${width}.png` });
    }
  } finally {
    await close();
  }
});
