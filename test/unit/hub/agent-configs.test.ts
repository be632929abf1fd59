// @vitest-environment node
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../../lib/bytes';
import { encodeConfigPayload } from '../../../lib/protocol/config-payload';
import { buildConfigDelivery, openConfigDelivery } from '../../../lib/protocol/sealed-config';
import { verifyAudit } from '../../../hub/audit';
import { hubFixture, ORIGIN } from './flow';
import { auditRows } from './audit-rows';

const CONFIG_ID = 'cfg-0001';
const CONFIG = {
  name: 'bot',
  model: 'm-1',
  provider_keys: [{ key: 'OPENAI_API_KEY', value: 'sk-hub-must-not-see-0001' }],
  env: [],
  json: '',
};

async function setup() {
  const hub = await hubFixture();
  const device = await hub.enrolledDevice();
  const agent = await hub.claimedAgent(device);
  const deliver = (
    revision: number,
    overrides: { configId?: string; signer?: Uint8Array; agentId?: string; installationId?: string; hub?: string } = {},
  ) =>
    buildConfigDelivery({
      hub: overrides.hub ?? ORIGIN,
      agent_id: overrides.agentId ?? agent.agentId,
      installation_id: overrides.installationId ?? agent.installationId,
      config_id: overrides.configId ?? CONFIG_ID,
      revision,
      boxKey: agent.boxKey,
      plaintext: encodeConfigPayload(CONFIG),
      sign: async (m) => ed25519.sign(m, overrides.signer ?? device.privateKey),
      now: hub.clock.now,
    });
  const path = `/v1/installations/${agent.installationId}/config`;
  return { hub, device, agent, deliver, path };
}

describe('agent config delivery routes', () => {
  it('PUT stores a device-signed delivery; the agent GETs exactly it and opens it; newer revisions replace it', async () => {
    const { hub, device, agent, deliver, path } = await setup();
    expect((await agent.send('GET', '/v1/agent/config')).json.error.code).toBe('config_not_assigned');
    const first = await deliver(1);
    const put = await device.send('PUT', path, first);
    expect(put.status).toBe(200);
    expect(put.json).toEqual({
      installation_id: agent.installationId,
      config_id: CONFIG_ID,
      revision: 1,
      updated_at: hub.clock.now,
    });
    const got = await agent.send('GET', '/v1/agent/config');
    expect(got.status).toBe(200);
    expect({ config: got.json.config, sealed_config: got.json.sealed_config }).toEqual(first);
    const opened = openConfigDelivery(device.publicKey, agent.boxPrivate, got.json, {
      hub: ORIGIN,
      agent_id: agent.agentId,
      installation_id: agent.installationId,
    });
    expect(opened.statement.revision).toBe(1);

    // Same or older revision of the same config: 409. A newer one replaces it.
    expect((await device.send('PUT', path, await deliver(1))).json.error.code).toBe('config_stale');
    expect((await device.send('PUT', path, await deliver(3))).status).toBe(200);
    expect((await device.send('PUT', path, first)).json.error.code).toBe('config_stale');
    expect((await agent.send('GET', '/v1/agent/config')).json.config.statement.revision).toBe(3);
    // Another config replaces it whatever its revision.
    expect((await device.send('PUT', path, await deliver(1, { configId: 'cfg-0002' }))).status).toBe(200);
    expect((await agent.send('GET', '/v1/agent/config')).json.config.statement.config_id).toBe('cfg-0002');

    const del = await device.send('DELETE', path);
    expect(del.json).toEqual({ installation_id: agent.installationId, deleted: true });
    expect((await device.send('DELETE', path)).json.deleted).toBe(false);
    expect((await agent.send('GET', '/v1/agent/config')).json.error.code).toBe('config_not_assigned');
    const actions = (await auditRows(hub.store)).map((r) => r.action).filter((a) => a.startsWith('config.'));
    expect(actions).toEqual(['config.deliver', 'config.deliver', 'config.deliver', 'config.unassign']);
    expect((await verifyAudit(hub.store)).ok).toBe(true);
  });

  it('refuses deliveries the device did not sign for this hub, agent and installation, and bytes changed after signing', async () => {
    const { hub, device, agent, deliver, path } = await setup();
    const other = await hub.claimedAgent(device, { name: 'other-bot' });
    const stranger = ed25519.utils.randomSecretKey();
    for (const bad of [
      await deliver(1, { signer: stranger }),
      await deliver(1, { agentId: other.agentId }),
      await deliver(1, { installationId: other.installationId }),
      await deliver(1, { hub: 'https://hub.example.com' }),
    ]) {
      const res = await device.send('PUT', path, bad);
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error.code).toBe('sealed_invalid');
    }
    const good = await deliver(1);
    const tampered = {
      ...good,
      sealed_config: good.sealed_config.slice(0, -2) + (good.sealed_config.endsWith('AA') ? 'AB' : 'AA'),
    };
    expect((await device.send('PUT', path, tampered)).json.error.code).toBe('sealed_invalid');
    expect((await device.send('PUT', path, { ...good, extra: 1 })).json.error.code).toBe('protocol_invalid');
    expect(await hub.store.agentConfigs.get(agent.installationId)).toBeNull();
  });

  it('only the owning device may PUT or DELETE; agents may not; a revoked installation gets nothing and its agent reads nothing', async () => {
    const { hub, device, agent, deliver, path } = await setup();
    const stranger = await hub.enrolledDevice(await hub.extraEnrollmentCode());
    expect((await stranger.send('PUT', path, await deliver(1))).json.error.code).toBe('not_found');
    expect((await stranger.send('DELETE', path)).json.error.code).toBe('not_found');
    expect((await agent.send('PUT', path, await deliver(1))).json.error.code).toBe('forbidden');
    expect((await device.send('GET', '/v1/agent/config')).json.error.code).toBe('forbidden');
    expect((await device.send('PUT', path, await deliver(1))).status).toBe(200);
    await device.send('DELETE', `/v1/installations/${agent.installationId}`, hub.revocationFor(device, agent));
    expect((await agent.send('GET', '/v1/agent/config')).json.error.code).toBe('agent_revoked');
    expect((await device.send('PUT', path, await deliver(2))).json.error.code).toBe('forbidden');
  });

  it('stores ciphertext only: the provider key appears nowhere in the database', async () => {
    const { hub, device, deliver, path } = await setup();
    await device.send('PUT', path, await deliver(1));
    const dump = JSON.stringify(
      await hub.store.agentConfigs.get((await hub.store.installations.listByAccount(device.keyId))[0]!.installationId),
      (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v),
    );
    expect(dump).toContain('CKSC');
    expect(dump).not.toContain('sk-hub-must-not-see-0001');
    expect(Buffer.from(dump, 'latin1').includes(Buffer.from(utf8Encode('sk-hub-must-not-see')))).toBe(false);
  });
});
