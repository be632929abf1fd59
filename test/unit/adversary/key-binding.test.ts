// @vitest-environment node
// Issue 13 items 1 and 2: a hub that swaps the box key the human's device seals to. The fingerprint the person compares
// covers the signing key only; the CKKB key binding (signed by that key over the box key) is what must stop the swap.
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import type { LocalInstallation } from '../../../lib/ext/approvals/hub-approval';
import { HubClient } from '../../../lib/hub-client/client';
import { approveDevice, lookupPairing } from '../../../lib/hub-client/devices';
import { DEVICE_KEY_CHANGED } from '../../../lib/hub-client/key-bindings';
import { sealPairedKey } from '../../../lib/protocol/device-pairing';
import { signKeyBinding } from '../../../lib/protocol/key-binding';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { MaliciousHub } from '../../adversary/malicious-hub';
import { realHubService } from '../ext/real-hub-service';
import { hubFixture, ORIGIN, pairingRequest } from '../hub/flow';

const hubBoxKey = () => encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey()));

// ---- pairing -------------------------------------------------------------------------------------------------

/** An approving device A talking through a MaliciousHub, and a new device B that asked to pair (honestly). */
async function pairingSetup(
  body?: (b: { publicKey: Uint8Array; privateKey: Uint8Array }, boxKey: Uint8Array) => unknown,
) {
  const hub = await hubFixture();
  const a = await hub.enrolledDevice();
  const evil = MaliciousHub.inProcess(hub.app.request);
  const client = new HubClient({
    hub: ORIGIN,
    signer: { role: 'human', keyId: a.keyId, sign: async (m) => ed25519.sign(m, a.privateKey) },
    fetch: evil.fetch as typeof fetch,
    now: () => hub.clock.now,
  });
  const b = hub.newDevice();
  const boxKey = x25519.getPublicKey(x25519.utils.randomSecretKey());
  const created = await b.send(
    'POST',
    '/v1/pairings',
    body ? body(b, boxKey) : pairingRequest(b, boxKey, 'Laptop', hub.clock.now),
  );
  expect(created.status).toBe(201);
  let sealed = 0;
  const approve = async () => {
    const lookup = await lookupPairing(client, created.json.code);
    return approveDevice({
      client,
      accountId: a.keyId,
      lookup,
      now: hub.clock.now,
      signer: { publicKey: a.publicKey, sign: async (m) => ed25519.sign(m, a.privateKey) },
      seal: async (key, context) => {
        sealed++;
        return sealPairedKey(key, { vaultId: randomBytes(16), vaultKey: randomBytes(32) }, context);
      },
    });
  };
  const approveCalls = () =>
    evil.exchanges.filter((e) => /^\/v1\/pairings\/[^/]+\/approve$/.test(e.request.path.split('?')[0]!)).length;
  return { hub, evil, approve, sealed: () => sealed, approveCalls, b, boxKey };
}

describe('a malicious hub swapping the new device box key in pairing', () => {
  it('the honest hub: one approval, the vault key sealed once', async () => {
    const t = await pairingSetup();
    await expect(t.approve()).resolves.toMatchObject({ device_key_id: deviceKeyId(t.b.publicKey) });
    expect([t.sealed(), t.approveCalls()]).toEqual([1, 1]);
  });

  const attacks: [string, (json: any) => void][] = [
    [
      'a hub that swaps the box key in the pairing lookup gets nothing sealed',
      (json) => void (json.box_key = hubBoxKey()),
    ],
    [
      'a hub that swaps the box key and the binding statement with it gets nothing sealed',
      (json) => {
        json.box_key = hubBoxKey();
        json.key_binding.statement.box_key = json.box_key;
      },
    ],
    [
      'a hub that swaps the binding signature gets nothing sealed',
      (json) => {
        const other = ed25519.utils.randomSecretKey();
        json.key_binding.signature = signKeyBinding(other, {
          ...json.key_binding.statement,
          signing_key: encodePublicKey(ed25519.getPublicKey(other)),
        }).signature;
      },
    ],
    ['a hub that renames the device gets nothing sealed', (json) => void (json.name = 'Your work laptop')],
    ['a hub that drops the binding gets nothing sealed', (json) => void (json.key_binding = null)],
  ];
  it.each(attacks)('%s', async (_what, edit) => {
    const t = await pairingSetup();
    t.evil.rewriteJson('POST /v1/pairings/lookup', (json) => edit(json));
    await expect(t.approve()).rejects.toMatchObject({ code: 'key_binding_invalid' });
    expect([t.sealed(), t.approveCalls()]).toEqual([0, 0]);
  });

  it('a binding the device made for another hub, replayed by this one, gets nothing sealed', async () => {
    const t = await pairingSetup();
    const other = pairingRequest(t.b, t.boxKey, 'Laptop');
    const foreign = signKeyBinding(t.b.privateKey, {
      ...other.key_binding.statement,
      hub: 'https://other-hub.example',
    });
    t.evil.rewriteJson('POST /v1/pairings/lookup', (json) => void (json.key_binding = foreign));
    await expect(t.approve()).rejects.toMatchObject({ code: 'key_binding_invalid', message: DEVICE_KEY_CHANGED });
    expect([t.sealed(), t.approveCalls()]).toEqual([0, 0]);
  }, 20_000);
});

// ---- claim, approvals and config delivery --------------------------------------------------------------------

/** The extension's HubService behind a MaliciousHub; agents register with the SDK at the real hub. */
async function claimSetup() {
  let evil!: MaliciousHub;
  const r = await realHubService(
    [
      {
        kind: 'secret',
        fields: {
          name: 'arxiv-key',
          value: 'sk-arxiv-secret-value',
          notes: '',
          tags: [],
          expiresAt: null,
          allowedHosts: [],
        },
      },
      {
        kind: 'agentConfig',
        fields: {
          name: 'cfg',
          model: 'm',
          providerKeys: [{ key: 'API_KEY', value: 'sk-config-secret' }],
          env: [],
          json: '{}',
        },
      },
    ],
    { serviceFetch: (hub) => (evil = MaliciousHub.inProcess(hub.app.request)).fetch },
  );
  const calls = (method: string, re: RegExp) =>
    evil.exchanges.filter((e) => e.request.method === method && re.test(e.request.path.split('?')[0]!)).length;
  return { ...r, evil: evil, calls };
}

describe('a malicious hub swapping the agent box key at claim', () => {
  const attacks: [string, (json: any) => void][] = [
    [
      'a hub that swaps the agent box key in claim lookup gets no claim signed',
      (json) => void (json.box_key = hubBoxKey()),
    ],
    [
      'a hub that swaps the agent box key and its binding in claim lookup gets no claim signed',
      (json) => {
        json.box_key = hubBoxKey();
        json.key_binding.statement.box_key = json.box_key;
      },
    ],
    ['a hub that drops the agent key binding gets no claim signed', (json) => void (json.key_binding = null)],
  ];
  it.each(attacks)('%s', async (_what, edit) => {
    const t = await claimSetup();
    const { AgentClient } = await import('../../../lib/agent');
    const agent = new AgentClient({ fetch: t.fetchApp, now: () => t.hub.clock.now });
    const reg = await agent.register({
      hub: ORIGIN,
      name: 'research-bot',
      manifest: { markdown: '# research-bot' },
      requestedScopes: ['secret:read:arxiv-key'],
    });
    t.evil.rewriteJson('POST /v1/claims/lookup', (json) => edit(json));
    const preview = await t.svc.lookupClaim(reg.claim_code);
    expect(preview.keyProblem).toMatch(/The hub (changed this agent's key — do not claim|sent no key binding)/);
    await expect(t.svc.claim(reg.claim_code, ['secret:read:arxiv-key'])).rejects.toMatchObject({
      code: 'key_binding_invalid',
    });
    expect(t.calls('POST', /^\/v1\/claims$/)).toBe(0);
    expect((await agent.status()).status).toBe('unclaimed');
  });

  it('the honest hub: claim works and the installation record keeps the verified binding', async () => {
    const t = await claimSetup();
    const { installation_id, reg } = await t.claimAgent('research-bot', ['secret:read:arxiv-key']);
    // Installation records are vault data (hub-installation-store.ts): read what the running service loaded from it.
    const records = (t.svc as unknown as { core: { localInstallations: LocalInstallation[] } }).core.localInstallations;
    const mine = records.find((i) => i.installation_id === installation_id)!;
    expect(mine.key_binding?.statement).toMatchObject({
      hub: ORIGIN,
      role: 'agent',
      name: 'research-bot',
      box_key: mine.box_key,
      signing_key: mine.signing_key,
    });
    expect(reg.fingerprint).toBeTruthy();
  });
});

describe('a malicious hub swapping the agent box key after the claim', () => {
  it('a hub that swaps the box key in the installations list later: secrets and configs still go to the claimed key only', async () => {
    const t = await claimSetup();
    const { agent, installation_id } = await t.claimAgent('research-bot', ['secret:read:arxiv-key']);
    const swapped = hubBoxKey();
    t.evil.rewriteJson('GET /v1/installations', (json) => {
      for (const i of json.installations) {
        i.agent_box_key = swapped;
        if (i.key_binding) i.key_binding.statement.box_key = swapped;
      }
    });
    await t.svc.refresh();
    const intent = await agent.createIntent({
      kind: 'secret.request',
      payload: { item: 'arxiv-key', reason: 'papers' },
    });
    await t.svc.pollOnce();
    await t.svc.decide(intent.intent_id, intent.payload_hash, 'approve');
    const res = await agent.execute(intent.intent_id, {
      kind: 'secret.request',
      payload: { item: 'arxiv-key', reason: 'papers' },
    });
    expect(new TextDecoder().decode(res.secret)).toBe('sk-arxiv-secret-value'); // opened with the agent's own box key
    const config = t.items.find((i) => i.kind === 'agentConfig')!;
    await t.svc.assignConfig(config.id, installation_id);
    expect((await agent.config()).config.provider_keys).toEqual([{ key: 'API_KEY', value: 'sk-config-secret' }]);
  });

  it('an installation record whose box key is not vouched for by the agent (claimed before bindings, or swapped) gets no secret and no config sealed', async () => {
    const t = await claimSetup();
    const { agent, installation_id } = await t.claimAgent('research-bot', ['secret:read:arxiv-key']);
    // What an older extension kept after a hub swapped the key at claim: the hub's box key, no binding it could check.
    // The running service holds its records (loaded from the vault) in memory: replace them there.
    const core = (t.svc as unknown as { core: { localInstallations: LocalInstallation[] } }).core;
    core.localInstallations = core.localInstallations.map((i) =>
      i.installation_id === installation_id ? { ...i, box_key: hubBoxKey(), key_binding: undefined } : i,
    );
    const intent = await agent.createIntent({
      kind: 'secret.request',
      payload: { item: 'arxiv-key', reason: 'papers' },
    });
    await t.svc.pollOnce();
    await expect(t.svc.decide(intent.intent_id, intent.payload_hash, 'approve')).rejects.toMatchObject({
      code: 'key_binding_invalid',
    });
    expect(t.calls('POST', /^\/v1\/intents\/[^/]+\/decision$/)).toBe(0);
    const config = t.items.find((i) => i.kind === 'agentConfig')!;
    await expect(t.svc.assignConfig(config.id, installation_id)).rejects.toMatchObject({ code: 'key_binding_invalid' });
    expect(t.calls('PUT', /^\/v1\/installations\/[^/]+\/config$/)).toBe(0);
  });
});
