// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../../lib/bytes';
import { parseConfigAssignments } from '../../../lib/ext/hub/hub-config-assignments';
import { CONFIG_ASSIGNMENTS_TAG } from '../../../lib/storage/vault-tags';
import type { AgentConfigFields } from '../../../lib/vault/types';
import { realHubService } from './real-hub-service';

const FIELDS = (key: string, mode: string): AgentConfigFields => ({
  name: 'research-bot config',
  model: 'anthropic/claude-sonnet-4',
  providerKeys: [{ key: 'ANTHROPIC_API_KEY', value: key }],
  env: [{ key: 'MODE', value: mode }],
  json: '{"t":1}',
});

/** The real pieces: an in-process hub, a real vault (fake-indexeddb), the extension's HubService and the agent SDK. */
async function setUp() {
  const r = await realHubService([{ kind: 'agentConfig', fields: FIELDS('sk-ant-first-value-0001', 'fast') }]);
  const { agent, installation_id, saved } = await r.claimAgent('research-bot', []);
  return {
    hub: r.hub,
    service: r.service,
    svc: r.svc,
    agent,
    item: r.items[0]!,
    installation_id,
    local: r.local,
    saved,
  };
}

describe('agent config delivery from the extension', () => {
  it('assign → the agent opens it; edit → the next sync delivers the new revision; unassign → none; nothing in plaintext storage', async () => {
    const t = await setUp();
    let state = await t.svc.state();
    expect(state.agentConfigs).toEqual([{ id: t.item.id, name: 'research-bot config', revision: 1 }]);
    expect(state.configAssignments).toEqual([]);

    state = await t.svc.assignConfig(t.item.id, t.installation_id);
    expect(state.configAssignments).toEqual([
      {
        installation_id: t.installation_id,
        agentName: 'research-bot',
        config_id: t.item.id,
        configName: 'research-bot config',
        revision: 1,
        delivered_at: t.hub.clock.now,
        outdated: false,
      },
    ]);
    const first = await t.agent.config();
    expect(first).toMatchObject({ config_id: t.item.id, revision: 1 });
    expect(first.config).toEqual({
      name: 'research-bot config',
      model: 'anthropic/claude-sonnet-4',
      provider_keys: [{ key: 'ANTHROPIC_API_KEY', value: 'sk-ant-first-value-0001' }],
      env: [{ key: 'MODE', value: 'fast' }],
      json: '{"t":1}',
    });

    // An edit bumps the item's revision; the sync the background runs on items-changed delivers it.
    t.hub.clock.now += 1000;
    await t.service.save({
      draft: { id: t.item.id, kind: 'agentConfig', fields: FIELDS('sk-ant-second-value-0002', 'slow') },
    });
    expect((await t.svc.state()).configAssignments[0]).toMatchObject({ revision: 1, outdated: true });
    expect(await t.svc.syncConfigs()).toBe(1);
    expect(await t.svc.syncConfigs()).toBe(0);
    const second = await t.agent.config();
    expect(second.revision).toBe(2);
    expect(second.config.provider_keys[0]!.value).toBe('sk-ant-second-value-0002');
    expect(t.saved().config_seen).toMatchObject({ config_id: t.item.id, revision: 2 });
    expect((await t.svc.state()).configAssignments[0]).toMatchObject({ revision: 2, outdated: false });

    // The assignment lives in the vault (encrypted item), not in chrome.storage.
    const record = (await t.service.list()).find((s) => s.tags.includes(CONFIG_ASSIGNMENTS_TAG))!;
    const doc = await t.service.get({ id: record.id });
    expect(doc.kind === 'secret' && parseConfigAssignments(doc.fields.value)).toEqual([
      expect.objectContaining({ config_id: t.item.id, revision: 2 }),
    ]);
    expect(JSON.stringify(t.local.data)).not.toContain(t.item.id);
    for (const value of ['sk-ant-first-value-0001', 'sk-ant-second-value-0002']) {
      expect(JSON.stringify(t.local.data)).not.toContain(value);
      const stored = (await t.hub.store.agentConfigs.get(t.installation_id))!;
      expect(Buffer.from(stored.sealed).includes(Buffer.from(utf8Encode(value)))).toBe(false);
      expect(JSON.stringify(stored.statement)).not.toContain(value);
    }

    state = await t.svc.unassignConfig(t.installation_id);
    expect(state.configAssignments).toEqual([]);
    await expect(t.agent.config()).rejects.toMatchObject({ code: 'config_not_assigned' });
  });

  it('deleting an assigned config unassigns it at the next sync; revoking the agent forgets the assignment', async () => {
    const t = await setUp();
    await t.svc.assignConfig(t.item.id, t.installation_id);
    await t.service.remove({ id: t.item.id });
    expect(await t.svc.syncConfigs()).toBe(1);
    await expect(t.agent.config()).rejects.toMatchObject({ code: 'config_not_assigned' });
    expect((await t.svc.state()).configAssignments).toEqual([]);

    const other = await t.service.save({ draft: { kind: 'agentConfig', fields: FIELDS('sk-other', 'x') } });
    await t.svc.assignConfig(other.id, t.installation_id);
    const state = await t.svc.revoke(t.installation_id);
    expect(state.configAssignments).toEqual([]);
    await expect(t.svc.assignConfig(other.id, t.installation_id)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('refuses an unknown config or an agent this device did not claim', async () => {
    const t = await setUp();
    await expect(t.svc.assignConfig('no-such-item', t.installation_id)).rejects.toMatchObject({
      code: 'item_not_found',
    });
    await expect(t.svc.assignConfig(t.item.id, 'ins_unknown')).rejects.toMatchObject({ code: 'installation_unknown' });
  });
});
