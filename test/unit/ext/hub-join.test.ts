// @vitest-environment node
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import { HubService, type HubVault } from '../../../lib/ext/hub/hub-service';
import { HUB_SETTINGS } from '../../../lib/storage/persisted-keys';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { hubFixture, ORIGIN } from '../hub/flow';
import { FAST_KDF, kekFor, uniqueDbName } from '../vault/helpers';
import { memoryStorage } from './real-hub-service';

const HUB_SETTINGS_KEY = HUB_SETTINGS.key;

const services: HubService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop(true).catch(() => {});
});

/** One browser's background: a real vault service behind the HubVault port, and the real HubService. */
function background(hub: Awaited<ReturnType<typeof hubFixture>>) {
  const service = new VaultService(new VaultDb(uniqueDbName()));
  const vault: HubVault = {
    get isUnlocked() {
      return service.isUnlocked;
    },
    whenReady: async () => {},
    withUnlocked: async (fn) => fn(service),
    join: (args) => service.join(args),
  };
  const local = memoryStorage();
  const enrolled = { count: 0 };
  const svc = new HubService(vault, {
    local,
    session: memoryStorage(),
    badge: () => {},
    changed: () => {},
    enrolled: () => void enrolled.count++,
    fetch: (async (url: string, init?: RequestInit) => hub.app.request(url, init)) as typeof fetch,
    now: () => hub.clock.now,
  });
  services.push(svc);
  return { service, svc, local, enrolled };
}

describe('the extension background joins an existing vault (new-device side) and approves one (existing side)', () => {
  it("start → one-click approval by A → finish with B's own KEK: B is a device of A's account; removal refuses B", async () => {
    const hub = await hubFixture();
    const a = background(hub);
    const saltA = randomBytes(16);
    await a.service.create({ kdf: FAST_KDF, salt: saltA, kek: await kekFor('a', saltA) });
    await a.svc.setHubUrl(ORIGIN);
    await a.svc.enroll(hub.enrollmentCode);
    // Enrolment tells the background at once (vault sync starts then, not on its next alarm).
    expect(a.enrolled.count).toBe(1);

    const b = background(hub);
    const shown = await b.svc.startJoin(ORIGIN, 'Second profile');
    expect(await b.svc.pollJoin()).toEqual({ status: 'pending', approvedBy: null });
    const preview = await a.svc.lookupDevice(shown.code);
    expect(preview).toMatchObject({ fingerprint: shown.fingerprint, name: 'Second profile' });
    await a.svc.approveDevice(preview.pairing_id);
    expect(await b.svc.pollJoin()).toMatchObject({
      status: 'approved',
      approvedBy: (await a.svc.state()).deviceFingerprint,
    });

    const saltB = randomBytes(16);
    const kekB = await kekFor('b', saltB);
    expect(b.enrolled.count).toBe(0);
    await b.svc.finishJoin({ kdf: FAST_KDF, salt: saltB, kek: kekB });
    expect(b.enrolled.count).toBe(1);
    expect(kekB.every((x) => x === 0)).toBe(true); // consumed
    expect(b.service.isUnlocked).toBe(true);
    // Same vault key and id: an item A saves opens in B once its record is there.
    const item = await a.service.save({
      draft: {
        kind: 'secret',
        fields: { name: 'token', value: 'v-123', notes: '', tags: [], expiresAt: null, allowedHosts: [] },
      },
    });
    const recordA = await (a.service as unknown as { db: VaultDb }).db.items.get(item.id);
    await (b.service as unknown as { db: VaultDb }).db.items.put(recordA!);
    expect((await b.service.get({ id: item.id })).fields).toMatchObject({ value: 'v-123' });

    // B's settings remember the hub, this device and the account it joined (public data only).
    const settings = b.local.data[HUB_SETTINGS_KEY] as {
      enrolled: Record<string, string[]>;
      accounts: Record<string, string>;
    };
    const accountA = (await a.svc.devices()).find((d) => d.isThisDevice)!.deviceKeyId;
    expect(settings.accounts[ORIGIN]).toBe(accountA);
    expect((await b.svc.state()).enrolled).toBe(true);
    const listed = await b.svc.devices();
    expect(listed.map((d) => d.isThisDevice)).toEqual([false, true]);

    // A code can be approved once; B cannot finish twice.
    await expect(b.svc.pollJoin()).rejects.toMatchObject({ code: 'pairing_closed' });
    await a.svc.removeDevice(listed[1]!.deviceKeyId);
    await expect(b.svc.devices()).rejects.toMatchObject({ code: 'device_revoked' });
  });

  it('approving needs a looked-up code, and a malformed code is refused before the hub', async () => {
    const hub = await hubFixture();
    const a = background(hub);
    const salt = randomBytes(16);
    await a.service.create({ kdf: FAST_KDF, salt, kek: await kekFor('a', salt) });
    await a.svc.setHubUrl(ORIGIN);
    await a.svc.enroll(hub.enrollmentCode);
    await expect(a.svc.lookupDevice('nope')).rejects.toMatchObject({ code: 'pairing_code_invalid' });
    await expect(a.svc.approveDevice('pair_unknown')).rejects.toMatchObject({ code: 'pairing_code_invalid' });
    await expect(a.svc.lookupDevice('BCDF-GHJK')).rejects.toMatchObject({ code: 'pairing_code_invalid', status: 404 });
    // Deny: the new device is told it was refused and cannot finish.
    const b = background(hub);
    const shown = await b.svc.startJoin(ORIGIN, '');
    await expect(a.svc.denyDevice('pair_unknown')).rejects.toMatchObject({ code: 'pairing_code_invalid' });
    const preview = await a.svc.lookupDevice(shown.code);
    await a.svc.denyDevice(preview.pairing_id);
    expect(await b.svc.pollJoin()).toEqual({ status: 'denied', approvedBy: null });
    const saltB = randomBytes(16);
    await expect(b.svc.finishJoin({ kdf: FAST_KDF, salt: saltB, kek: await kekFor('b', saltB) })).rejects.toMatchObject(
      { code: 'pairing_pending' },
    );
    expect(b.service.isUnlocked).toBe(false);
  });
});
