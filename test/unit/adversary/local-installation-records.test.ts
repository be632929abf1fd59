// @vitest-environment node
/**
 * A local process (anything that can read and write the browser profile: chrome.storage.local, IndexedDB) against
 * the extension's installation records (issue 13 item 13). The records name agents, the scopes that name vault
 * items and the box key secrets are sealed to: they live in the vault (hub-installation-store.ts), encrypted and
 * authenticated, so the process can neither read them nor make the extension seal to a key of its choosing.
 */
import { describe, expect, it } from 'vitest';
import { utf8Decode } from '../../../lib/bytes';
import { HubService } from '../../../lib/ext/hub/hub-service';
import { HUB_LEGACY_INSTALLATIONS } from '../../../lib/storage/persisted-keys';
import { parseInstallations } from '../../../lib/ext/hub/hub-installation-store';
import { INSTALLATIONS_TAG } from '../../../lib/storage/vault-tags';
import { encodePublicKey } from '../../../lib/protocol/keys';
import { x25519 } from '@noble/curves/ed25519.js';
import { memoryStorage, realHubService } from '../ext/real-hub-service';

const HUB_INSTALLATIONS_KEY = HUB_LEGACY_INSTALLATIONS.key;

const ITEM = 'prod/api-key';
const VALUE = 'sk-local-process-must-not-get-this';
const AGENT_NAME = 'agent-with-a-telling-name';

async function setUp() {
  const r = await realHubService([
    { kind: 'secret', fields: { name: ITEM, value: VALUE, notes: '', tags: [], expiresAt: null, allowedHosts: [] } },
  ]);
  const claimed = await r.claimAgent(AGENT_NAME, [`secret:read:${ITEM}`]);
  await r.svc.stop(true); // no live subscription racing the test's pollOnce
  return { ...r, ...claimed };
}

/** A worker restart of the new version over the same vault and browser storage. */
function restartedService(t: Awaited<ReturnType<typeof setUp>>, local = t.local) {
  return new HubService(t.vault, {
    local,
    session: memoryStorage(),
    badge: () => {},
    changed: () => {},
    fetch: t.fetchApp as typeof fetch,
    now: () => t.hub.clock.now,
  });
}

async function installationRecord(t: Awaited<ReturnType<typeof setUp>>) {
  const summary = (await t.service.list()).find((s) => s.tags.includes(INSTALLATIONS_TAG));
  expect(summary, 'the installation records are a tagged vault item').toBeDefined();
  const item = await t.service.get({ id: summary!.id });
  return { id: summary!.id, records: item.kind === 'secret' ? parseInstallations(item.fields.value) : [] };
}

describe('a local process and the installation records', () => {
  it('reads no agent name, scope or box key from chrome.storage.local after a claim', async () => {
    const t = await setUp();
    const { records } = await installationRecord(t);
    expect(records).toHaveLength(1);
    const boxKey = records[0]!.box_key;
    const plain = JSON.stringify([t.local.data, t.session.data]);
    for (const secretish of [AGENT_NAME, ITEM, `secret:read:${ITEM}`, boxKey, t.installation_id])
      expect(plain).not.toContain(secretish);
    expect(t.local.data[HUB_INSTALLATIONS_KEY]).toBeUndefined();
  });

  it('that rewrites the encrypted record gets nothing sealed: the AEAD fails with a typed error and the request stays pending', async () => {
    const t = await setUp();
    const { id } = await installationRecord(t);
    // While the browser is closed, the process flips a byte of the record's ciphertext in IndexedDB.
    const stored = (await t.db.items.get(id))!;
    const envelope = Uint8Array.from(stored.envelope);
    envelope[envelope.length - 20]! ^= 0x01;
    await t.db.items.update(id, { envelope });
    t.service.invalidateCache();

    const svc = restartedService(t);
    await svc.whenReady();
    const intent = await t.agent.createIntent({ kind: 'secret.request', payload: { item: ITEM, reason: 'deploy' } });
    await svc.pollOnce();
    await expect(svc.decide(intent.intent_id, intent.payload_hash, 'approve')).rejects.toMatchObject({
      code: 'decrypt_failed',
    });
    expect((await t.agent.getIntent(intent.intent_id)).status).toBe('pending');
  });

  it('that plants plaintext records for the migration (a swapped box key, an invented installation) gets nothing sealed to its key', async () => {
    const t = await setUp();
    const { id, records } = await installationRecord(t);
    const real = records[0]!;
    // An older version's layout: the record in plaintext chrome.storage.local, none in the vault …
    await t.service.remove({ id });
    // … edited by the local process: its own box key on the real installation, and one invented installation.
    const attackerBox = encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey()));
    const invented = {
      ...real,
      installation_id: 'ins_invented_by_a_local_process',
      box_key: attackerBox,
      name: 'planted',
    };
    const local = memoryStorage();
    Object.assign(local.data, structuredClone(t.local.data), {
      [HUB_INSTALLATIONS_KEY]: [{ ...real, box_key: attackerBox }, invented],
    });

    const svc = restartedService(t, local);
    await svc.whenReady();
    await svc.ensureRunning(); // unlock / wake: migrates
    for (let i = 0; i < 100 && local.data[HUB_INSTALLATIONS_KEY] !== undefined; i++)
      await new Promise((r) => setTimeout(r, 20));
    await svc.stop(false);

    // The plaintext copy is gone; the vault holds the installation as this device signed it, nothing planted.
    expect(local.data[HUB_INSTALLATIONS_KEY]).toBeUndefined();
    const migrated = (await installationRecord(t)).records;
    expect(migrated.map((r) => [r.installation_id, r.box_key])).toEqual([[real.installation_id, real.box_key]]);
    expect(JSON.stringify(local.data)).not.toContain(AGENT_NAME);

    // Approving now seals to the agent's real key: the agent opens it.
    const intent = await t.agent.createIntent({ kind: 'secret.request', payload: { item: ITEM, reason: 'deploy' } });
    await svc.pollOnce();
    await svc.decide(intent.intent_id, intent.payload_hash, 'approve');
    const res = await t.agent.execute(intent.intent_id, {
      kind: 'secret.request',
      payload: { item: ITEM, reason: 'deploy' },
    });
    expect(utf8Decode(res.secret!)).toBe(VALUE);
  });
});
