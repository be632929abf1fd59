// @vitest-environment node
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { AgentClient, parseAgentState, type AgentState, type FetchLike } from '../../../lib/agent';
import { fromBase64UrlFixed } from '../../../lib/protocol/base64url';
import { encodeConfigPayload, type AgentConfigPayload } from '../../../lib/protocol/config-payload';
import { buildConfigDelivery } from '../../../lib/protocol/sealed-config';
import { hubFixture, ORIGIN, pairingRequest } from '../hub/flow';
import { expectCode } from '../protocol/helpers';

type Hub = Awaited<ReturnType<typeof hubFixture>>;

const CONFIG = (model: string, key: string): AgentConfigPayload => ({
  name: 'sdk-bot',
  model,
  provider_keys: [{ key: 'OPENAI_API_KEY', value: key }],
  env: [{ key: 'MODE', value: 'fast' }],
  json: '{}',
});

/** An agent registered through the SDK and claimed by a device; `replace` lets the test play a lying hub. */
async function claimed(hub: Hub) {
  const device = await hub.enrolledDevice();
  const saved: AgentState[] = [];
  let replace: ((path: string, json: any) => any) | null = null;
  const fetch: FetchLike = async (url, init) => {
    const res = await hub.app.request(url, init);
    if (!replace) return res;
    const json = replace(new URL(url).pathname, await res.json());
    return new Response(JSON.stringify(json), {
      status: json.error ? res.status : 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  const client = new AgentClient({ fetch, now: () => hub.clock.now, onStateChange: (s) => void saved.push(s) });
  const reg = await client.register({
    hub: ORIGIN,
    name: 'sdk-bot',
    manifest: { markdown: '# sdk-bot' },
    requestedScopes: [],
  });
  const agent = {
    agentId: reg.agent_id,
    claimCode: reg.claim_code,
    signingKey: fromBase64UrlFixed(client.publicKeys.signing_key, 32, 'k'),
    boxKey: fromBase64UrlFixed(client.publicKeys.box_key, 32, 'k'),
  } as unknown as Parameters<Hub['claimFor']>[1];
  const claim = hub.claimFor(device, agent, { granted_scopes: [] });
  expect((await device.send('POST', '/v1/claims', { claim })).status).toBe(201);
  const installationId = claim.statement.installation_id;
  const deliver = async (
    configId: string,
    revision: number,
    config: AgentConfigPayload,
    signer = device.privateKey,
  ) => {
    const delivery = await buildConfigDelivery({
      hub: ORIGIN,
      agent_id: reg.agent_id,
      installation_id: installationId,
      config_id: configId,
      revision,
      boxKey: agent.boxKey,
      plaintext: encodeConfigPayload(config),
      sign: async (m) => ed25519.sign(m, signer),
      now: hub.clock.now,
    });
    const res = await device.send('PUT', `/v1/installations/${installationId}/config`, delivery);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    return delivery;
  };
  return {
    device,
    client,
    saved,
    deliver,
    setReplace: (fn: typeof replace) => {
      replace = fn;
    },
  };
}

describe('AgentClient.config', () => {
  it('opens the assigned config, remembers the revision, sees a newer one, and reports none after unassign', async () => {
    const hub = await hubFixture();
    const { client, saved, deliver, device } = await claimed(hub);
    await expectCode(() => client.config(), 'config_not_assigned');
    await deliver('cfg-1', 2, CONFIG('m-1', 'sk-one'));
    const first = await client.config();
    expect(first).toMatchObject({ config_id: 'cfg-1', revision: 2, config: CONFIG('m-1', 'sk-one') });
    expect(saved.at(-1)!.config_seen).toEqual({ config_id: 'cfg-1', revision: 2, time: hub.clock.now });
    expect(parseAgentState(saved.at(-1)).config_seen).toEqual(saved.at(-1)!.config_seen);
    const writes = saved.length;
    await client.config();
    expect(saved.length).toBe(writes); // the same revision again changes nothing

    hub.clock.now += 1000;
    await deliver('cfg-1', 3, CONFIG('m-2', 'sk-two'));
    expect(await client.config()).toMatchObject({ revision: 3, config: CONFIG('m-2', 'sk-two') });

    const state = saved.at(-1)!;
    await device.send('DELETE', `/v1/installations/${state.installation_id}/config`);
    await expectCode(() => client.config(), 'config_not_assigned');
  });

  it('refuses a replayed older revision, an older config, one signed by another device, and changed bytes', async () => {
    const hub = await hubFixture();
    const { client, deliver, setReplace } = await claimed(hub);
    const old = await deliver('cfg-1', 1, CONFIG('m-1', 'sk-old'));
    hub.clock.now += 1000;
    const otherOld = await deliver('cfg-2', 5, CONFIG('m-x', 'sk-x'));
    hub.clock.now += 1000;
    await deliver('cfg-1', 2, CONFIG('m-2', 'sk-new'));
    expect((await client.config()).revision).toBe(2);

    // A lying hub replays revision 1 of the same config, then an older delivery of another config.
    setReplace((path, json) => (path === '/v1/agent/config' ? { ...json, ...old } : json));
    await expectCode(() => client.config(), 'config_rollback');
    setReplace((path, json) => (path === '/v1/agent/config' ? { ...json, ...otherOld } : json));
    await expectCode(() => client.config(), 'config_rollback');
    // It claims the old blob is revision 9: the signature no longer covers the statement.
    setReplace((path, json) =>
      path === '/v1/agent/config'
        ? { ...json, config: { ...old.config, statement: { ...old.config.statement, revision: 9 } } }
        : json,
    );
    await expectCode(() => client.config(), 'config_untrusted');
    // Bytes changed after signing.
    setReplace((path, json) =>
      path === '/v1/agent/config'
        ? {
            ...json,
            sealed_config: `${json.sealed_config.slice(0, 80)}${json.sealed_config[80] === 'A' ? 'B' : 'A'}${json.sealed_config.slice(81)}`,
          }
        : json,
    );
    await expectCode(() => client.config(), 'config_untrusted');
    setReplace(null);
    expect((await client.config()).revision).toBe(2);
  });

  it('refuses a config sealed and signed by a device other than the pinned one', async () => {
    const hub = await hubFixture();
    const { client, deliver, setReplace } = await claimed(hub);
    const good = await deliver('cfg-1', 1, CONFIG('m-1', 'sk-1'));
    expect((await client.config()).revision).toBe(1);
    const stranger = ed25519.utils.randomSecretKey();
    const forged = await buildConfigDelivery({
      ...good.config.statement,
      revision: 2,
      boxKey: fromBase64UrlFixed(client.publicKeys.box_key, 32, 'k'),
      plaintext: encodeConfigPayload(CONFIG('evil', 'sk-evil')),
      sign: async (m) => ed25519.sign(m, stranger),
      now: hub.clock.now + 1,
    });
    setReplace((path, json) => (path === '/v1/agent/config' ? { ...json, ...forged } : json));
    await expectCode(() => client.config(), 'config_untrusted');
  });
});

describe('AgentClient.config from another device of the account', () => {
  it('accepts a delivery signed by a device the pinned device added, refuses one signed by a stranger key', async () => {
    const hub = await hubFixture();
    const { client, device, deliver, setReplace } = await claimed(hub);
    const { x25519 } = await import('@noble/curves/ed25519.js');
    const { buildPairingApproval, sealPairedKey } = await import('../../../lib/protocol/device-pairing');
    const second = hub.newDevice();
    const boxKey = x25519.getPublicKey(x25519.utils.randomSecretKey());
    const created = await second.send('POST', '/v1/pairings', pairingRequest(second, boxKey, null));
    const lookup = (await device.send('POST', '/v1/pairings/lookup', { code: created.json.code })).json;
    const approval = await buildPairingApproval({
      hub: ORIGIN,
      accountId: device.keyId,
      pairingId: lookup.pairing_id,
      deviceKey: second.publicKey,
      boxKey,
      signer: { publicKey: device.publicKey, sign: async (m) => ed25519.sign(m, device.privateKey) },
      seal: async (key, context) =>
        sealPairedKey(key, { vaultId: new Uint8Array(16), vaultKey: new Uint8Array(32).fill(2) }, context),
      now: hub.clock.now,
    });
    expect((await device.send('POST', `/v1/pairings/${lookup.pairing_id}/approve`, approval)).status).toBe(201);

    await deliver('cfg-1', 1, CONFIG('m-1', 'sk-one'));
    expect((await client.config()).revision).toBe(1);
    // The hub checks the PUT against the sending device's key, so the paired device uploads its own delivery.
    hub.clock.now += 1000;
    const state = (client as unknown as { state: AgentState }).state;
    const delivery = await buildConfigDelivery({
      hub: ORIGIN,
      agent_id: state.agent_id,
      installation_id: state.installation_id!,
      config_id: 'cfg-1',
      revision: 2,
      boxKey: fromBase64UrlFixed(client.publicKeys.box_key, 32, 'k'),
      plaintext: encodeConfigPayload(CONFIG('m-2', 'sk-two')),
      sign: async (m) => ed25519.sign(m, second.privateKey),
      now: hub.clock.now,
    });
    expect((await second.send('PUT', `/v1/installations/${state.installation_id}/config`, delivery)).status).toBe(200);
    expect(await client.config()).toMatchObject({ revision: 2, config: CONFIG('m-2', 'sk-two') });

    // A delivery the hub swaps in itself, signed by a key no statement of the pinned device vouches for, is refused
    // by the agent even with the real device list attached.
    const stranger = hub.newDevice();
    hub.clock.now += 1000;
    const forged = await buildConfigDelivery({
      hub: ORIGIN,
      agent_id: state.agent_id,
      installation_id: state.installation_id!,
      config_id: 'cfg-1',
      revision: 3,
      boxKey: fromBase64UrlFixed(client.publicKeys.box_key, 32, 'k'),
      plaintext: encodeConfigPayload(CONFIG('m-3', 'sk-evil')),
      sign: async (m) => ed25519.sign(m, stranger.privateKey),
      now: hub.clock.now,
    });
    setReplace((path, json) => (path === '/v1/agent/config' ? { ...json, ...forged } : json));
    await expectCode(() => client.config(), 'config_untrusted');
    setReplace(null);
    expect((await client.config()).revision).toBe(2);
  });
});
