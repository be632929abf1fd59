// @vitest-environment node
// Issue 13 item 9 (installation part): revocation is the device's decision, not the hub's word. Once the person
// revoked an agent in the extension, a hub that re-lists the installation as active (its operator edits the
// database, or the hub never carried the revocation out) gets nothing signed, sealed or delivered for it, also
// after the extension restarts. The extension is the real HubService over a real vault; the hub is the real
// in-process hub whose store the attacker edits; the agent is the real SDK.
import { describe, expect, it } from 'vitest';
import { HubService } from '../../../lib/ext/hub-service';
import type { AgentConfigFields } from '../../../lib/vault/types';
import { realHubService } from '../ext/real-hub-service';

const ITEM = 'deploy/token';
const CONFIG: AgentConfigFields = { name: 'bot config', model: 'anthropic/claude-sonnet-4', providerKeys: [{ key: 'ANTHROPIC_API_KEY', value: 'sk-config-value' }], env: [], json: '{}' };

async function setUp() {
  const r = await realHubService([
    { kind: 'secret', fields: { name: ITEM, value: 'sk-revoked-agent-must-not-get-this', notes: '', tags: [], expiresAt: null } },
    { kind: 'agentConfig', fields: CONFIG },
  ]);
  const claimed = await r.claimAgent('revoked-bot', [`secret:read:${ITEM}`]);
  await r.svc.revoke(claimed.installation_id);
  expect(r.hub.store.installations.get(claimed.installation_id)!.status).toBe('revoked');
  // The attack: the hub un-revokes the installation and lists it as active again.
  r.hub.store.installations.setStatus(claimed.installation_id, 'active', r.hub.clock.now);
  return { ...r, ...claimed, configItem: r.items[1]! };
}

describe('a hub that re-lists a revoked installation as active', () => {
  it('gets no approval signed and no secret sealed for it by the extension', async () => {
    const t = await setUp();
    const intent = await t.agent.createIntent({ kind: 'secret.request', payload: { item: ITEM, reason: 'after revocation' } });
    await t.svc.refreshInstallations().catch(() => {});
    await t.svc.pollOnce();
    const state = await t.svc.state();
    // Not shown to the person, and the Agents tab keeps saying revoked.
    expect(state.pending.map((p) => p.intent.intent_id)).not.toContain(intent.intent_id);
    expect(state.installations.find((i) => i.installation_id === t.installation_id)?.status).toBe('revoked');
    // Even a decision forced through (e.g. a stale page) signs nothing for it.
    await expect(t.svc.decide(intent.intent_id, intent.payload_hash, 'approve')).rejects.toBeTruthy();
    expect(t.hub.store.intents.get(intent.intent_id)!.status).toBe('pending');
    expect(t.hub.store.sealedSecrets.get(intent.intent_id)).toBeNull();
  });

  it('gets no agent config delivered to it, and cannot have it re-enabled, also after the extension restarts', async () => {
    const t = await setUp();
    await t.svc.refreshInstallations().catch(() => {});
    await expect(t.svc.assignConfig(t.configItem.id, t.installation_id)).rejects.toBeTruthy();
    expect(t.hub.store.agentConfigs.get(t.installation_id)).toBeNull();
    await expect(t.svc.enableInstallation(t.installation_id)).rejects.toMatchObject({ code: 'forbidden' });

    // A restarted background (same chrome.storage.local) remembers the revocation.
    const restarted = new HubService({ isUnlocked: true, whenReady: async () => {}, withUnlocked: async (fn) => fn(t.service) }, {
      local: t.local, session: t.session, badge: () => {}, changed: () => {}, fetch: t.fetchApp as typeof fetch, now: () => t.hub.clock.now,
    });
    await restarted.whenReady();
    await restarted.refreshInstallations().catch(() => {});
    const intent = await t.agent.createIntent({ kind: 'secret.request', payload: { item: ITEM, reason: 'after restart' } });
    await restarted.pollOnce();
    expect((await restarted.state()).pending.map((p) => p.intent.intent_id)).not.toContain(intent.intent_id);
    await expect(restarted.decide(intent.intent_id, intent.payload_hash, 'approve')).rejects.toBeTruthy();
    await expect(restarted.assignConfig(t.configItem.id, t.installation_id)).rejects.toBeTruthy();
    expect(t.hub.store.sealedSecrets.get(intent.intent_id)).toBeNull();
    expect(t.hub.store.agentConfigs.get(t.installation_id)).toBeNull();
  });
});
