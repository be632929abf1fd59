// @vitest-environment node
// Issue 13 item 9 (installation part): revocation is the device's decision, not the hub's word. Once the person
// revoked an agent in the extension, a hub that re-lists the installation as active (its operator edits the
// database, or the hub never carried the revocation out) gets nothing signed, sealed or delivered for it, also
// after the extension restarts. The extension is the real HubService over a real vault; the hub is the real
// in-process hub whose store the attacker edits; the agent is the real SDK.
import 'fake-indexeddb/auto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import { HubService } from '../../../lib/ext/hub/hub-service';
import { HubClient } from '../../../lib/hub-client/client';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { SyncEngine } from '../../../lib/sync/engine';
import { signVaultHead, type VaultHead } from '../../../lib/protocol/vault-head';
import { vaultSyncStore } from '../../../lib/sync/vault-store';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { hubFixture, ORIGIN } from '../hub/flow';
import { FAST_KDF, kekFor, uniqueDbName } from '../vault/helpers';
import type { AgentConfigFields } from '../../../lib/vault/types';
import { realHubService } from '../ext/real-hub-service';

const ITEM = 'deploy/token';
const CONFIG: AgentConfigFields = {
  name: 'bot config',
  model: 'anthropic/claude-sonnet-4',
  providerKeys: [{ key: 'ANTHROPIC_API_KEY', value: 'sk-config-value' }],
  env: [],
  json: '{}',
};

async function setUp() {
  const r = await realHubService([
    {
      kind: 'secret',
      fields: {
        name: ITEM,
        value: 'sk-revoked-agent-must-not-get-this',
        notes: '',
        tags: [],
        expiresAt: null,
        allowedHosts: [],
      },
    },
    { kind: 'agentConfig', fields: CONFIG },
  ]);
  const claimed = await r.claimAgent('revoked-bot', [`secret:read:${ITEM}`]);
  await r.svc.revoke(claimed.installation_id);
  expect((await r.hub.store.installations.get(claimed.installation_id))!.status).toBe('revoked');
  // The attack: the hub un-revokes the installation and lists it as active again.
  await r.hub.store.installations.setStatus(claimed.installation_id, 'active', r.hub.clock.now);
  return { ...r, ...claimed, configItem: r.items[1]! };
}

describe('a hub that re-lists a revoked installation as active', () => {
  it('gets no approval signed and no secret sealed for it by the extension', async () => {
    const t = await setUp();
    const intent = await t.agent.createIntent({
      kind: 'secret.request',
      payload: { item: ITEM, reason: 'after revocation' },
    });
    await t.svc.refreshInstallations().catch(() => {});
    await t.svc.pollOnce();
    const state = await t.svc.state();
    // Not shown to the person, and the Agents tab keeps saying revoked.
    expect(state.pending.map((p) => p.intent.intent_id)).not.toContain(intent.intent_id);
    expect(state.installations.find((i) => i.installation_id === t.installation_id)?.status).toBe('revoked');
    // Even a decision forced through (e.g. a stale page) signs nothing for it.
    await expect(t.svc.decide(intent.intent_id, intent.payload_hash, 'approve')).rejects.toBeTruthy();
    expect((await t.hub.store.intents.get(intent.intent_id))!.status).toBe('pending');
    expect(await t.hub.store.sealedSecrets.get(intent.intent_id)).toBeNull();
  });

  it('gets no agent config delivered to it, and cannot have it re-enabled, also after the extension restarts', async () => {
    const t = await setUp();
    await t.svc.refreshInstallations().catch(() => {});
    await expect(t.svc.assignConfig(t.configItem.id, t.installation_id)).rejects.toBeTruthy();
    expect(await t.hub.store.agentConfigs.get(t.installation_id)).toBeNull();
    await expect(t.svc.enableInstallation(t.installation_id)).rejects.toMatchObject({ code: 'forbidden' });

    // A restarted background (same chrome.storage.local) remembers the revocation.
    const restarted = new HubService(
      { isUnlocked: true, whenReady: async () => {}, withUnlocked: async (fn) => fn(t.service) },
      {
        local: t.local,
        session: t.session,
        badge: () => {},
        changed: () => {},
        fetch: t.fetchApp as typeof fetch,
        now: () => t.hub.clock.now,
      },
    );
    await restarted.whenReady();
    await restarted.refreshInstallations().catch(() => {});
    const intent = await t.agent.createIntent({
      kind: 'secret.request',
      payload: { item: ITEM, reason: 'after restart' },
    });
    await restarted.pollOnce();
    expect((await restarted.state()).pending.map((p) => p.intent.intent_id)).not.toContain(intent.intent_id);
    await expect(restarted.decide(intent.intent_id, intent.payload_hash, 'approve')).rejects.toBeTruthy();
    await expect(restarted.assignConfig(t.configItem.id, t.installation_id)).rejects.toBeTruthy();
    expect(await t.hub.store.sealedSecrets.get(intent.intent_id)).toBeNull();
    expect(await t.hub.store.agentConfigs.get(t.installation_id)).toBeNull();
  });
});

/**
 * A device syncing through the real in-process hub; the account also had a second device R, since removed. The hub
 * is malicious: it serves whatever pull answer the test arms, and lists R as removed only while `listsRemoval`.
 */
async function syncSetUp() {
  const hub = await hubFixture();
  const account = await hub.enrolledDevice();
  const accountId = deviceKeyId(account.publicKey);
  const removedDevice = ed25519.utils.randomSecretKey();
  const removedKey = ed25519.getPublicKey(removedDevice);
  const salt = randomBytes(16);
  const db = new VaultDb(uniqueDbName());
  const service = new VaultService(db);
  await service.create({ kdf: FAST_KDF, salt, kek: await kekFor('pw', salt) });
  const device = { publicKey: account.publicKey, sign: async (m: Uint8Array) => ed25519.sign(m, account.privateKey) };
  const client = new HubClient({
    hub: ORIGIN,
    signer: { role: 'human', keyId: accountId, sign: device.sign },
    now: () => hub.clock.now,
    fetch: (async (url: string, init: RequestInit) => hub.app.request(url, init)) as unknown as typeof fetch,
  });
  const attack: {
    pull?: (since: number) => Promise<Awaited<ReturnType<HubClient['pullVault']>>>;
    listsRemoval: boolean;
  } = { listsRemoval: true };
  const engine = () =>
    new SyncEngine({
      hub: ORIGIN,
      accountId,
      device,
      now: () => hub.clock.now,
      remote: {
        pull: (since) => (attack.pull ?? ((n) => client.pullVault(n)))(since),
        push: (body) => client.pushVault(body),
      },
      store: vaultSyncStore(db, () => service.invalidateCache()),
      // Both keys verify through the device-add chain (R was added by the account's device); R is listed as removed.
      trustedDeviceKeys: async () => [account.publicKey, removedKey],
      removedDeviceKeys: async () => (attack.listsRemoval ? [encodePublicKey(removedKey)] : []),
    });
  return { hub, service, client, attack, engine, accountId, removedDevice, removedKey };
}

describe('a hub serving vault heads of a removed device', () => {
  it('a head the removed device signed after its removal is refused, also once the hub stops listing the removal', async () => {
    const t = await syncSetUp();
    await t.service.save({
      draft: {
        kind: 'secret',
        fields: { name: 'Before', value: 'v1', notes: '', tags: [], expiresAt: null, allowedHosts: [] },
      },
    });
    expect((await t.engine().sync()).pushed).toBe(1);
    const honest = await t.client.pullVault(0);

    // The hub forgets the removal (lists R as active again) and serves a newer head R signed: one counter on, over
    // the same items (R, a stolen device colluding with the hub, could sign any item set).
    t.attack.listsRemoval = false;
    const forged = await signVaultHead(
      {
        ...(honest.head!.statement as VaultHead),
        counter: honest.counter + 1,
        device_key: encodePublicKey(t.removedKey),
        time: t.hub.clock.now,
      },
      async (m) => ed25519.sign(m, t.removedDevice),
    );
    t.attack.pull = async () => ({ counter: honest.counter + 1, head: forged, items: [] });
    await expect(t.engine().sync()).rejects.toMatchObject({ code: 'sync_head_invalid' });
  });
});
