// @vitest-environment node
import 'fake-indexeddb/auto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import { HubClient } from '../../../lib/hub-client/client';
import { HubClientError } from '../../../lib/hub-client/errors';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { signVaultHead } from '../../../lib/protocol/vault-head';
import { itemsHash } from '../../../lib/protocol/vault-items-hash';
import { SyncEngine, type SyncRemote } from '../../../lib/sync/engine';
import { SyncService } from '../../../lib/sync/sync-service';
import { vaultSyncStore } from '../../../lib/sync/vault-store';
import type { VaultPull } from '../../../lib/protocol/vault-sync-wire';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import type { ItemDraft } from '../../../lib/vault/types';
import { hubFixture, ORIGIN } from '../hub/flow';
import { FAST_KDF, kekFor, uniqueDbName } from '../vault/helpers';

const PASS = 'shared-vault-passphrase';
const secret = (name: string, value: string, id?: string): ItemDraft => ({
  ...(id ? { id } : {}),
  kind: 'secret',
  fields: { name, value, notes: '', tags: [], expiresAt: null, allowedHosts: [] },
});

/** Two devices holding the same vault (same vault id and key, as pairing leaves them), syncing through one hub. */
async function setUp() {
  const hub = await hubFixture();
  const account = await hub.enrolledDevice();
  const accountId = deviceKeyId(account.publicKey);
  const salt = randomBytes(16);
  const nameA = uniqueDbName();
  const dbA = new VaultDb(nameA);
  const a = new VaultService(dbA);
  await a.create({ kdf: FAST_KDF, salt, kek: await kekFor(PASS, salt) });
  const dbB = new VaultDb(uniqueDbName());
  await dbB.meta.put((await dbA.meta.get('header'))!);
  const b = new VaultService(dbB);
  await b.unlock({ kek: await kekFor(PASS, salt) });

  const offline = { a: false, b: false };
  const device = { publicKey: account.publicKey, sign: async (m: Uint8Array) => ed25519.sign(m, account.privateKey) };
  const client = new HubClient({
    hub: ORIGIN,
    signer: { role: 'human', keyId: accountId, sign: device.sign },
    fetch: (async (url: string, init: RequestInit) => hub.app.request(url, init)) as unknown as typeof fetch,
    now: () => hub.clock.now,
  });
  const remoteFor = (who: 'a' | 'b'): SyncRemote => ({
    pull: async (since) => {
      if (offline[who]) throw new TypeError('fetch failed');
      return client.pullVault(since);
    },
    push: async (body) => {
      if (offline[who]) throw new TypeError('fetch failed');
      return client.pushVault(body);
    },
  });
  const engineFor = (service: VaultService, db: VaultDb, remote: SyncRemote) =>
    new SyncEngine({
      hub: ORIGIN,
      accountId,
      remote,
      device,
      now: () => hub.clock.now,
      store: vaultSyncStore(db, () => service.invalidateCache()),
      trustedDeviceKeys: async () => [account.publicKey],
    });
  const syncA = engineFor(a, dbA, remoteFor('a'));
  const syncB = engineFor(b, dbB, remoteFor('b'));
  const values = async (s: VaultService) => {
    const out: Record<string, string> = {};
    for (const item of await s.list()) {
      const full = await s.get({ id: item.id });
      if (full.kind === 'secret') out[full.fields.name] = full.fields.value;
    }
    return out;
  };
  return { hub, a, b, dbA, dbB, syncA, syncB, offline, values, engineFor, client, remoteFor, accountId, device };
}

/** One item synced to both devices, then edited on each; A has pushed its edit, B has not synced since. */
async function editedOnBoth() {
  const t = await setUp();
  const item = await t.a.save({ draft: secret('API key', 'original') });
  await t.syncA.sync();
  await t.syncB.sync();
  await t.a.save({ draft: secret('API key', 'edited on A', item.id) });
  await t.b.save({ draft: secret('API key', 'edited on B', item.id) });
  await t.syncA.sync();
  return { t, item };
}

describe('vault sync between two devices of one account', () => {
  it('pushes ciphertext, pulls and decrypts on the other device; the hub holds no plaintext', async () => {
    const t = await setUp();
    await t.a.save({ draft: secret('GitHub token', 'ghp_SYNC_ONE') });
    await t.a.save({ draft: secret('Stripe key', 'sk_SYNC_TWO') });
    expect(await t.syncA.pending()).toBe(2);
    expect(await t.syncA.sync()).toMatchObject({ pushed: 2, conflicts: [], counter: 1 });
    expect(await t.syncA.pending()).toBe(0);
    expect(await t.syncB.sync()).toMatchObject({ pulled: 2, pushed: 0, counter: 1 });
    expect(await t.values(t.b)).toEqual({ 'GitHub token': 'ghp_SYNC_ONE', 'Stripe key': 'sk_SYNC_TWO' });
    const rows = await t.hub.store.vault.items(t.accountId);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      const text = Buffer.from(r.envelope!).toString('latin1');
      expect(text).not.toContain('SYNC');
      expect(text).not.toContain('GitHub');
    }
  });

  it('edits made offline on both devices are queued, then converge; deletions travel as tombstones', async () => {
    const t = await setUp();
    const shared = await t.a.save({ draft: secret('Shared', 'v1') });
    await t.syncA.sync();
    await t.syncB.sync();
    t.offline.a = true;
    t.offline.b = true;
    await t.a.save({ draft: secret('Only on A', 'a-value') });
    await t.b.save({ draft: secret('Only on B', 'b-value') });
    await expect(t.syncA.sync()).rejects.toMatchObject({ code: 'sync_offline' });
    await expect(t.syncB.sync()).rejects.toMatchObject({ code: 'sync_offline' });
    // Nothing local was lost or changed by the failed syncs.
    expect(await t.values(t.a)).toEqual({ Shared: 'v1', 'Only on A': 'a-value' });
    expect(await t.syncB.pending()).toBe(1);
    t.offline.a = false;
    t.offline.b = false;
    await t.syncA.sync();
    await t.syncB.sync();
    await t.syncA.sync();
    const both = { Shared: 'v1', 'Only on A': 'a-value', 'Only on B': 'b-value' };
    expect(await t.values(t.a)).toEqual(both);
    expect(await t.values(t.b)).toEqual(both);

    await t.a.remove({ id: shared.id });
    await t.syncA.sync();
    await t.syncB.sync();
    expect(Object.keys(await t.values(t.b)).sort()).toEqual(['Only on A', 'Only on B']);
    expect((await t.hub.store.vault.get((await t.syncA.state()).accountId, shared.id))?.envelope).toBeNull();
  });

  it('a hub the extension lost the permission to reach: offline with words that say why, edits stay queued', async () => {
    const t = await setUp();
    await t.a.save({ draft: secret('GitHub token', 'ghp_QUEUED') });
    const words = 'Clawkeep no longer has permission to reach https://hub.example.com. Save the hub URL again.';
    const refused = () => Promise.reject(new HubClientError('hub_permission_missing', words));
    const engine = t.engineFor(t.a, t.dbA, { pull: refused, push: refused });
    await expect(engine.sync()).rejects.toMatchObject({ code: 'sync_offline', message: words });
    expect(await engine.pending()).toBe(1);
  });

  it('the same item edited on both devices keeps both versions until the person picks one', async () => {
    const { t, item } = await editedOnBoth();
    const result = await t.syncB.sync();
    expect(result.conflicts).toEqual([item.id]);
    // B keeps its own edit; the hub keeps A's; B's state holds A's version for the choice.
    expect(await t.values(t.b)).toEqual({ 'API key': 'edited on B' });
    expect((await t.syncB.state()).conflicts[item.id]?.envelope).toBeInstanceOf(Uint8Array);
    expect(await t.syncB.pending()).toBe(0);

    await t.syncB.resolve(item.id, 'mine');
    await t.syncB.sync();
    await t.syncA.sync();
    expect(await t.values(t.a)).toEqual({ 'API key': 'edited on B' });

    // Another round, this time B takes A's version.
    await t.a.save({ draft: secret('API key', 'second A', item.id) });
    await t.b.save({ draft: secret('API key', 'second B', item.id) });
    await t.syncA.sync();
    expect((await t.syncB.sync()).conflicts).toEqual([item.id]);
    await t.syncB.resolve(item.id, 'theirs');
    expect(await t.values(t.b)).toEqual({ 'API key': 'second A' });
    expect(await t.syncB.sync()).toMatchObject({ pushed: 0, conflicts: [] });
  });

  it('a conflict chosen while a sync is pulling stays chosen: the service runs the choice after that sync', async () => {
    const { t, item } = await editedOnBoth();
    // B's pulls wait at a gate this test opens, so the choice below is made while a sync is under way.
    let open!: () => void;
    let gate = new Promise<void>((resolve) => (open = resolve));
    let pulling!: () => void;
    const pullStarted = new Promise<void>((resolve) => (pulling = resolve));
    const remote = t.remoteFor('b');
    const gated: SyncRemote = {
      pull: async (since) => {
        pulling();
        await gate;
        return remote.pull(since);
      },
      push: (body) => remote.push(body),
    };
    const service = new SyncService({
      vault: { isUnlocked: true, withUnlocked: (fn) => fn(t.b) },
      connection: async () => ({
        hub: ORIGIN,
        accountId: t.accountId,
        remote: gated,
        device: t.device,
        trustedDeviceKeys: async () => [t.device.publicKey],
      }),
      changed: () => {},
      itemsChanged: () => {},
      now: () => t.hub.clock.now,
    });
    open();
    expect((await service.syncNow()).conflicts.map((c) => c.id)).toEqual([item.id]);

    gate = new Promise<void>((resolve) => (open = resolve));
    const syncing = service.syncNow();
    await pullStarted;
    const chosen = service.resolve(item.id, 'mine');
    open();
    await syncing;
    expect((await chosen).conflicts).toEqual([]);
    expect((await t.syncB.state()).conflicts).toEqual({});
    await t.syncA.sync();
    expect(await t.values(t.a)).toEqual({ 'API key': 'edited on B' });
  });

  it('a sync asked for while a run is under way gets a run of its own: the earlier one read its inputs before', async () => {
    const t = await setUp();
    await t.a.save({ draft: secret('API key', 'on A') });
    await t.syncA.sync();
    // B is joining: its first run finds no account yet and waits there until this test lets it go on.
    let joined = false;
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    let asked!: () => void;
    const firstAsked = new Promise<void>((resolve) => (asked = resolve));
    const service = new SyncService({
      vault: { isUnlocked: true, withUnlocked: (fn) => fn(t.b) },
      connection: async () => {
        const answer = joined
          ? {
              hub: ORIGIN,
              accountId: t.accountId,
              remote: t.remoteFor('b'),
              device: t.device,
              trustedDeviceKeys: async () => [t.device.publicKey],
            }
          : null;
        asked();
        await held;
        return answer;
      },
      changed: () => {},
      itemsChanged: () => {},
      now: () => t.hub.clock.now,
    });
    const first = service.syncNow(); // the unlock's run
    await firstAsked;
    joined = true;
    const second = service.syncNow(); // the join's run, asked for once joined
    expect(service.syncNow()).toBe(second); // asked again before it starts: the same run
    letGo();
    expect((await first).state).toBe('off');
    expect(await second).toMatchObject({ state: 'idle', error: null });
    expect(await t.values(t.b)).toEqual({ 'API key': 'on A' });
  });

  it('refuses a hub that serves an older head than one already seen (rollback), and one whose items do not match the head', async () => {
    const t = await setUp();
    await t.a.save({ draft: secret('One', '1') });
    await t.syncA.sync();
    const old: VaultPull = await t.client.pullVault(0);
    await t.a.save({ draft: secret('Two', '2') });
    await t.syncA.sync();
    await t.syncB.sync();
    expect((await t.syncB.state()).seenHead?.counter).toBe(2);

    // A hub restored from a backup: it answers with the state at counter 1.
    const rolledBack = t.engineFor(t.b, t.dbB, {
      pull: async () => old,
      push: async () => {
        throw new Error('must not push');
      },
    });
    await expect(rolledBack.sync()).rejects.toMatchObject({ code: 'sync_rollback' });
    expect(await t.values(t.b)).toEqual({ One: '1', Two: '2' });

    // A hub that swaps an item's ciphertext: the signed head no longer describes the items.
    await t.a.save({ draft: secret('Three', '3') });
    await t.syncA.sync();
    const swapped = t.engineFor(t.b, t.dbB, {
      pull: async (since) => {
        const page = await t.client.pullVault(since);
        return {
          ...page,
          items: page.items.map((i) => ({ ...i, envelope: i.envelope && `${i.envelope.slice(0, -4)}AAAA` })),
        };
      },
      push: async (b) => t.client.pushVault(b),
    });
    await expect(swapped.sync()).rejects.toMatchObject({ code: 'sync_head_invalid' });
    expect(await t.values(t.b)).toEqual({ One: '1', Two: '2' });
    // The honest hub afterwards: fine.
    await t.syncB.sync();
    expect(await t.values(t.b)).toEqual({ One: '1', Two: '2', Three: '3' });
  });

  it('refuses a forked hub: a different validly signed head under a counter already seen', async () => {
    const t = await setUp();
    await t.a.save({ draft: secret('One', '1') });
    await t.syncA.sync();
    await t.syncB.sync();
    const seen = (await t.syncB.state()).seenHead!;
    // A hub that accepted two different pushes for the same counter shows this device the other history.
    const other = await signVaultHead(
      {
        hub: ORIGIN,
        account_id: t.accountId,
        counter: seen.counter,
        items_hash: itemsHash({}),
        device_key: encodePublicKey(t.device.publicKey),
        time: t.hub.clock.now,
      },
      t.device.sign,
    );
    const forked = t.engineFor(t.b, t.dbB, {
      pull: async () => ({ counter: seen.counter, head: other, items: [] }),
      push: async () => {
        throw new Error('must not push');
      },
    });
    await expect(forked.sync()).rejects.toMatchObject({ code: 'sync_fork' });
    // A head signed by a key that is not a device of the account is refused too.
    const stranger = ed25519.utils.randomSecretKey();
    const foreign = await signVaultHead(
      {
        hub: ORIGIN,
        account_id: t.accountId,
        counter: seen.counter + 1,
        items_hash: itemsHash({}),
        device_key: encodePublicKey(ed25519.getPublicKey(stranger)),
        time: t.hub.clock.now,
      },
      async (m) => ed25519.sign(m, stranger),
    );
    const hostile = t.engineFor(t.b, t.dbB, {
      pull: async () => ({ counter: seen.counter + 1, head: foreign, items: [] }),
      push: async () => {
        throw new Error('must not push');
      },
    });
    await expect(hostile.sync()).rejects.toMatchObject({ code: 'sync_head_invalid' });
    expect(await t.values(t.b)).toEqual({ One: '1' });
  });
});
