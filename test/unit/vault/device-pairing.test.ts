// @vitest-environment node
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { randomBytes, toHex } from '../../../lib/bytes';
import { HubClient, type HubSigner } from '../../../lib/hub-client/client';
import { approveDevice, JoinSession, listDevices, lookupPairing, removeDevice } from '../../../lib/hub-client/devices';
import { deviceKeyId, fingerprint } from '../../../lib/protocol/keys';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { hubFixture } from '../hub/flow';
import { dumpDatabase, FAST_KDF, inProcessKdf, kekFor, uniqueDbName } from './helpers';
import { createPageDeviceApi } from '../../../lib/web-vault/page-devices';
import { auditRows } from '../hub/audit-rows';

const SECRET = 'sk-pairing-test-value-7c1e';

/**
 * The real pieces end to end: an in-process hub, two real vaults (fake-indexeddb) with their own device keys, the
 * client flow of each side. Device A enrols and approves; device B joins with the code and its own passphrase.
 */
async function setUp() {
  const hub = await hubFixture();
  const fetchApp = (async (url: string | URL | Request, init?: RequestInit) =>
    hub.app.request(url, init)) as typeof fetch;
  const nameA = uniqueDbName();
  const a = new VaultService(new VaultDb(nameA));
  const saltA = randomBytes(16);
  await a.create({ kdf: FAST_KDF, salt: saltA, kek: await kekFor('passphrase of A', saltA) });
  const item = await a.save({
    draft: {
      kind: 'secret',
      fields: { name: 'GitHub token', value: SECRET, notes: '', tags: [], expiresAt: null, allowedHosts: [] },
    },
  });
  const signerA = await a.deviceSigner();
  const hubSignerA: HubSigner = { role: 'human', keyId: deviceKeyId(signerA.publicKey), sign: (m) => signerA.sign(m) };
  const clientA = new HubClient({
    hub: 'http://127.0.0.1:8787',
    signer: hubSignerA,
    fetch: fetchApp,
    now: () => hub.clock.now,
  });
  const enrolled = await clientA.enroll(hub.enrollmentCode, signerA.publicKey);
  return { hub, fetchApp, a, nameA, item, signerA, clientA, accountId: enrolled.account_id };
}

type Setup = Awaited<ReturnType<typeof setUp>>;

/** A new context joins: it shows a code; the approver types it, sees the fingerprint, approves in one call. */
async function join(s: Setup, approver: { vault: VaultService; client: HubClient }, passphrase: string) {
  const name = uniqueDbName();
  const vault = new VaultService(new VaultDb(name));
  const session = await JoinSession.start({
    hub: 'http://127.0.0.1:8787',
    name: 'Second laptop',
    fetch: s.fetchApp,
    now: () => s.hub.clock.now,
  });
  expect(await session.poll()).toEqual({ status: 'pending' });
  const lookup = await lookupPairing(approver.client, session.pairing.code);
  // What the person compares: the approving device shows exactly the fingerprint the new device shows.
  expect(lookup.fingerprint).toBe(session.fingerprint);
  await approveDevice({
    client: approver.client,
    accountId: s.accountId,
    lookup,
    signer: await approver.vault.deviceSigner(),
    seal: (boxKey, context) => approver.vault.sealVaultKeyForPairing({ boxKey, context }),
    now: s.hub.clock.now,
  });
  expect(await session.poll()).toEqual({
    status: 'approved',
    accountId: s.accountId,
    approvedBy: fingerprint((await approver.vault.deviceSigner()).publicKey),
  });
  const salt = randomBytes(16);
  await session.finish(vault, { kdf: FAST_KDF, salt, kek: await kekFor(passphrase, salt) });
  const signer = await vault.deviceSigner();
  expect(toHex(signer.publicKey)).toBe(
    toHex((session as unknown as { signer: { publicKey: Uint8Array } }).signer.publicKey),
  );
  const client = new HubClient({
    hub: 'http://127.0.0.1:8787',
    signer: { role: 'human', keyId: deviceKeyId(signer.publicKey), sign: (m) => signer.sign(m) },
    fetch: s.fetchApp,
    now: () => s.hub.clock.now,
  });
  return { vault, name, client, session };
}

// Three vaults' unlocks, sealed boxes and a real hub per test: 1.3 s alone, over 5 s once in a CI run on the loaded
// 2-core machine (nothing here depends on time).
describe('device pairing: a new vault joins through one approval', { timeout: 30_000 }, () => {
  it('B opens what A encrypted, under its own passphrase; a third context paired by B works too; removal is immediate', async () => {
    const s = await setUp();
    const b = await join(s, { vault: s.a, client: s.clientA }, 'passphrase of B');

    // B holds A's vault key and id: A's ciphertext record, copied as is, decrypts in B's vault.
    const record = await new VaultDb(s.nameA).items.get(s.item.id);
    await new VaultDb(b.name).items.put(record!);
    expect((await b.vault.get({ id: s.item.id })).fields).toMatchObject({ name: 'GitHub token', value: SECRET });

    // B's own passphrase unlocks B's vault after a lock; A's passphrase does not (each device wraps the key itself).
    await b.vault.lock();
    const header = (await b.vault.status()).header!;
    await expect(b.vault.unlock({ kek: await kekFor('passphrase of A', header.salt) })).rejects.toThrow();
    await b.vault.unlock({ kek: await kekFor('passphrase of B', header.salt) });
    expect((await b.vault.get({ id: s.item.id })).fields).toMatchObject({ value: SECRET });

    // B is a device of the account: it can list the devices (chain verified) and pair a third context itself.
    const c = await join(s, { vault: b.vault, client: b.client }, 'passphrase of C');
    await new VaultDb(c.name).items.put(record!);
    expect((await c.vault.get({ id: s.item.id })).fields).toMatchObject({ value: SECRET });
    const devices = await listDevices(s.clientA, {
      accountId: s.accountId,
      thisDeviceKeyId: s.clientA['signer'].keyId,
    });
    expect(devices.map((d) => [d.name, d.isThisDevice])).toEqual([
      [null, true],
      ['Second laptop', false],
      ['Second laptop', false],
    ]);

    // Nothing secret reached the hub: no vault key, no passphrase, no plaintext in its database or log.
    const dbText = JSON.stringify(await auditRows(s.hub.store)) + s.hub.logLines.join('\n');
    expect(dbText).not.toContain(SECRET);

    // A removes C: C's very next request fails with device_revoked; B keeps working.
    await removeDevice(s.clientA, {
      accountId: s.accountId,
      deviceKeyId: c.session.deviceKeyId,
      signer: s.signerA,
      now: s.hub.clock.now,
    });
    await expect(
      listDevices(c.client, { accountId: s.accountId, thisDeviceKeyId: c.session.deviceKeyId }),
    ).rejects.toMatchObject({ code: 'device_revoked', status: 403 });
    const after = await listDevices(b.client, { accountId: s.accountId, thisDeviceKeyId: b.session.deviceKeyId });
    expect(after.find((d) => d.deviceKeyId === c.session.deviceKeyId)!.revokedAt).toBe(s.hub.clock.now);

    // B's IndexedDB holds no plaintext of the vault key's secret (only envelopes) and no box private key.
    expect(await dumpDatabase(b.name)).not.toContain(SECRET);
  });

  it('the web vault device API: join through the page API, remember hub and account (not secret), list devices, refused once removed', async () => {
    const s = await setUp();
    const data = new Map<string, string>();
    const store = {
      getItem: (k: string) => data.get(k) ?? null,
      setItem: (k: string, v: string) => void data.set(k, v),
    };
    const service = new VaultService(new VaultDb(uniqueDbName()));
    const api = createPageDeviceApi({
      service,
      join: (args) => service.join(args as Parameters<VaultService['join']>[0]),
      kdf: inProcessKdf,
      store,
      fetch: s.fetchApp,
    });
    expect(api.joined()).toBeNull();
    expect(await api.hubClient()).toBeNull();
    // The page's HubClient signs with the real clock: keep the hub's clock at real time for this test.
    s.hub.clock.now = Date.now();
    const shown = await api.startJoin('http://127.0.0.1:8787/', 'Web vault');
    expect(await api.pollJoin()).toEqual({ status: 'pending', approvedBy: null });
    const lookup = await lookupPairing(s.clientA, shown.code);
    expect(lookup.fingerprint).toBe(shown.fingerprint);
    await approveDevice({
      client: s.clientA,
      accountId: s.accountId,
      lookup,
      signer: s.signerA,
      seal: (boxKey, context) => s.a.sealVaultKeyForPairing({ boxKey, context }),
      now: s.hub.clock.now,
    });
    expect(await api.pollJoin()).toEqual({ status: 'approved', approvedBy: fingerprint(s.signerA.publicKey) });
    await api.finishJoin('passphrase of the web vault', FAST_KDF);
    expect(service.isUnlocked).toBe(true);
    expect(api.joined()).toEqual({
      hubUrl: 'http://127.0.0.1:8787',
      accountId: s.accountId,
      hubKey: s.hub.identity.hubKey,
    });
    // What is remembered in the clear is only where and which account: no key material.
    expect([...data.values()].join()).not.toMatch(/passphrase|pkcs8|vault_key/i);
    const listed = await api.devices();
    expect(listed.find((d) => d.isThisDevice)?.fingerprint).toBe(shown.fingerprint);
    // Another hub at the same URL (the real one stopped, a squatter took the port): refused before anything is signed.
    const squatter = await hubFixture(s.hub.clock.now);
    const squatterApi = createPageDeviceApi({
      service,
      join: () => Promise.reject(new Error('unused')),
      kdf: inProcessKdf,
      store,
      fetch: (async (url: string, init?: RequestInit) => squatter.app.request(url, init)) as typeof fetch,
    });
    await expect(squatterApi.devices()).rejects.toMatchObject({
      code: 'hub_identity_mismatch',
      message: expect.stringMatching(/This is not the hub you enrolled with/),
    });
    const conn = (await api.hubClient())!;
    await removeDevice(s.clientA, {
      accountId: s.accountId,
      deviceKeyId: conn.deviceKeyId,
      signer: s.signerA,
      now: s.hub.clock.now,
    });
    await expect(api.devices()).rejects.toMatchObject({ code: 'device_revoked' });
  });

  it('a join cannot finish before approval, and a session is single-use', async () => {
    const s = await setUp();
    const session = await JoinSession.start({
      hub: 'http://127.0.0.1:8787',
      name: null,
      fetch: s.fetchApp,
      now: () => s.hub.clock.now,
    });
    const vault = new VaultService(new VaultDb(uniqueDbName()));
    const salt = randomBytes(16);
    await expect(session.finish(vault, { kdf: FAST_KDF, salt, kek: await kekFor('x', salt) })).rejects.toMatchObject({
      code: 'pairing_pending',
    });
    expect((await vault.status()).state).toBe('uninitialized');
  });
});
