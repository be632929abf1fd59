import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { HubService, type HubVault, type NewIntentNotice } from '../../../lib/ext/hub/hub-service';
import { HUB_PENDING, HUB_SETTINGS } from '../../../lib/storage/persisted-keys';
import type { HubPrefs } from '../../../lib/hub-client/api';
import { payloadHash } from '../../../lib/protocol/intent-hash';
import type { Intent } from '../../../lib/protocol/wire';
import type { VaultService } from '../../../lib/vault/vault-service';

const HUB_PENDING_KEY = HUB_PENDING.key;
const HUB_SETTINGS_KEY = HUB_SETTINGS.key;

const NOW = Date.parse('2026-11-23T12:00:00Z');

function intent(id: string): Intent {
  const payload = { summary: `Step ${id}`, risk: 'low' };
  return {
    intent_id: id,
    agent_id: 'agt_1',
    installation_id: 'ins_1',
    kind: 'action.approve',
    payload,
    payload_hash: payloadHash('action.approve', payload),
    status: 'pending',
    risk: 'low',
    created_at: NOW,
    expires_at: NOW + 300_000,
  };
}

function memoryStorage(init: Record<string, unknown> = {}) {
  const data: Record<string, unknown> = { ...init };
  return {
    data,
    get: async (key: string) => (key in data ? { [key]: data[key] } : {}),
    set: async (items: Record<string, unknown>) => void Object.assign(data, structuredClone(items)),
    remove: async (key: string) => void delete data[key],
  };
}

/** A HubService over an unlocked fake vault, a fake hub that lists `hubPending`, and recorded newIntents calls. */
function setUp(session = memoryStorage()) {
  const privateKey = ed25519.utils.randomSecretKey();
  const signer = {
    publicKey: ed25519.getPublicKey(privateKey),
    sign: async (m: Uint8Array) => ed25519.sign(m, privateKey),
  };
  const service = {
    deviceSigner: async () => signer,
    list: async () => [],
    listInBackground: async () => [],
  } as unknown as VaultService;
  const vault: HubVault & { isUnlocked: boolean } = {
    isUnlocked: true,
    whenReady: async () => {},
    withUnlocked: async <T>(fn: (s: VaultService) => Promise<T>) => fn(service),
  };
  const hub = { pending: [] as Intent[] };
  const calls: { notices: NewIntentNotice[]; prefs: HubPrefs }[] = [];
  const local = memoryStorage();
  const svc = new HubService(vault, {
    local,
    session,
    badge: () => {},
    changed: () => {},
    fetch: async () => Response.json({ intents: hub.pending }),
    now: () => NOW,
    newIntents: (notices, prefs) => void calls.push({ notices, prefs }),
  });
  const ids = () => calls.map((c) => c.notices.map((n) => n.intent_id));
  return { svc, vault, hub, calls, ids, local, session };
}

describe('HubService: announcing new intents', () => {
  it('announces each intent once, with the agent name and kind only, and the default prefs', async () => {
    const t = setUp();
    t.hub.pending = [intent('int_a')];
    await t.svc.pollOnce();
    expect(t.calls).toEqual([
      {
        notices: [{ intent_id: 'int_a', kind: 'action.approve', agentName: 'Unknown agent' }],
        prefs: { approvalWindow: true, notifications: false },
      },
    ]);
    await t.svc.pollOnce();
    t.hub.pending = [intent('int_a'), intent('int_b')];
    await t.svc.pollOnce();
    await t.svc.pollOnce();
    expect(t.ids()).toEqual([['int_a'], ['int_b']]);
  });

  it('announces nothing while locked; after lock and unlock the pending ones are new again', async () => {
    const t = setUp();
    t.hub.pending = [intent('int_a')];
    await t.svc.pollOnce();
    await t.svc.stop(true);
    t.vault.isUnlocked = false;
    await t.svc.pollOnce();
    expect(t.ids()).toEqual([['int_a']]);
    t.vault.isUnlocked = true;
    await t.svc.pollOnce();
    expect(t.ids()).toEqual([['int_a'], ['int_a']]);
  });

  it('a restarted worker does not announce what it had stored as pending', async () => {
    const session = memoryStorage({ [HUB_PENDING_KEY]: { hub: 'http://127.0.0.1:8787', intents: [intent('int_a')] } });
    const t = setUp(session);
    await t.svc.whenReady();
    t.hub.pending = [intent('int_a'), intent('int_b')];
    await t.svc.pollOnce();
    expect(t.ids()).toEqual([['int_b']]);
  });

  it('setPrefs stores booleans only, with the hub settings, and state() reports them', async () => {
    const t = setUp();
    const state = await t.svc.setPrefs({ approvalWindow: false, notifications: 'yes' as unknown as boolean });
    expect(state.prefs).toEqual({ approvalWindow: false, notifications: false });
    expect((t.local.data[HUB_SETTINGS_KEY] as { prefs: HubPrefs }).prefs).toEqual({
      approvalWindow: false,
      notifications: false,
    });
    t.hub.pending = [intent('int_a')];
    await t.svc.pollOnce();
    expect(t.calls[0]!.prefs.approvalWindow).toBe(false);
  });
});
