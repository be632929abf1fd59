// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { AgentClient, AgentError } from '../../../lib/agent';
import { utf8Decode, utf8Encode } from '../../../lib/bytes';
import { signApproval } from '../../../lib/protocol/approval';
import { fromBase64Url, fromBase64UrlFixed, toBase64Url } from '../../../lib/protocol/base64url';
import { encodePublicKey } from '../../../lib/protocol/keys';
import { sealSecret } from '../../../lib/protocol/sealed-secret';
import type { Intent } from '../../../lib/protocol/wire';
import { hubFixture, ORIGIN, pairingRequest } from '../hub/flow';
import { appFetch, claimed, registered, type Device, type Hub } from './sdk-fixture';

describe('AgentClient: register, claim, status', () => {
  it('registers, reports unclaimed, then verifies the claim and pins the claiming device', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const { client, reg, saved, asFixtureAgent } = await registered(hub);
    expect(reg.agent_id).toMatch(/^agt_/);
    expect(reg.claim_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(reg.fingerprint).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ version: 1, hub: ORIGIN, agent_id: reg.agent_id });
    expect(saved[0]!.device_key).toBeUndefined();

    expect(await client.status()).toMatchObject({ status: 'unclaimed', pinned_now: false });

    const claim = hub.claimFor(device, asFixtureAgent, {
      granted_scopes: ['action:action.approve', 'secret:read:arxiv-key'],
    });
    expect((await device.send('POST', '/v1/claims', { claim })).status).toBe(201);

    const first = await client.status();
    expect(first).toMatchObject({
      status: 'claimed',
      pinned_now: true,
      installation_id: claim.statement.installation_id,
      device_key: encodePublicKey(device.publicKey),
      granted_scopes: ['action:action.approve', 'secret:read:arxiv-key'],
    });
    expect(saved.at(-1)).toMatchObject({
      device_key: encodePublicKey(device.publicKey),
      installation_id: claim.statement.installation_id,
    });
    expect((await client.status()).pinned_now).toBe(false);

    // A fresh client from the saved state keeps the pin.
    const reloaded = new AgentClient({ fetch: appFetch(hub), now: () => hub.clock.now, state: saved.at(-1)! });
    expect(await reloaded.status()).toMatchObject({
      status: 'claimed',
      pinned_now: false,
      device_key: encodePublicKey(device.publicKey),
    });
  });

  it('refuses a claim signed by another device once one is pinned, and a first claim for other keys', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    let forge: ((json: any) => any) | undefined;
    const { client, asFixtureAgent } = await registered(hub, {
      rewrite: (path, json) => (path === '/v1/agents/me' && forge ? forge(json) : json),
    });
    const claim = hub.claimFor(device, asFixtureAgent);
    await device.send('POST', '/v1/claims', { claim });
    await client.status();

    // The hub swaps in a claim by another device, self-consistent in every other respect.
    const mallory = hub.newDevice();
    const forged = hub.claimFor(mallory, asFixtureAgent, { installation_id: claim.statement.installation_id });
    forge = (json) => ({ ...json, installation: { ...json.installation, claim: forged } });
    const err = await client.status().catch((e) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err.code).toBe('claim_untrusted');

    // Claiming "unclaimed" after a pin is refused too.
    forge = (json) => ({ agent_id: json.agent_id, status: 'unclaimed' });
    expect((await client.status().catch((e) => e)).code).toBe('claim_untrusted');

    // A fresh agent whose first claim names another agent's box key is refused before anything is pinned.
    const other = await registered(hub);
    const swapped = hub.claimFor(device, other.asFixtureAgent, {
      agent_box_key: encodePublicKey(new Uint8Array(32).fill(9)),
    });
    forge = (json) => ({
      agent_id: json.agent_id,
      status: 'claimed',
      installation: { installation_id: swapped.statement.installation_id, granted_scopes: [], claim: swapped },
    });
    const c2 = new AgentClient({
      fetch: appFetch(hub, (path, json) => (path === '/v1/agents/me' ? forge(json) : json)),
      now: () => hub.clock.now,
      state: other.saved[0]!,
    });
    expect((await c2.status().catch((e) => e)).code).toBe('claim_untrusted');
    expect(c2.state!.device_key).toBeUndefined();
  });

  it('passes hub error codes through and checks input locally', async () => {
    const hub = await hubFixture();
    const { client } = await registered(hub);
    // Not claimed: the hub refuses to create intents.
    const notClaimed = await client
      .createIntent({ kind: 'action.approve', payload: { summary: 'x', risk: 'low' } })
      .catch((e) => e);
    expect(notClaimed).toBeInstanceOf(AgentError);
    expect(notClaimed.code).toBe('agent_not_claimed');
    // Bad payload never reaches the hub.
    expect(
      (
        await client
          .createIntent({ kind: 'payment.send', payload: { summary: 'x', amount_minor: 1.5 } })
          .catch((e) => e)
      ).code,
    ).toBe('protocol_invalid');
    expect((await client.execute('int_unknown').catch((e) => e)).code).toBe('state_invalid');
    const unregistered = new AgentClient({ fetch: appFetch(hub) });
    expect((await unregistered.status().catch((e) => e)).code).toBe('state_invalid');
    expect(
      (
        await unregistered
          .register({ hub: 'http://example.com', name: 'x', manifest: { markdown: 'x' }, requestedScopes: [] })
          .catch((e) => e)
      ).code,
    ).toBe('protocol_invalid');
    // A wrong clock is a hub auth error, passed through.
    const skewed = new AgentClient({ fetch: appFetch(hub), now: () => hub.clock.now - 120_000, state: client.state! });
    expect((await skewed.status().catch((e) => e)).code).toBe('auth_stale');
  });
});

/** What the human's device does: sign the decision for the hub's intent and, for a secret, seal it to the agent. */
async function decide(
  hub: Hub,
  device: Device,
  intent: Intent,
  decision: 'approve' | 'deny',
  options: {
    secret?: string;
    boxKey?: Uint8Array;
    sealFor?: Partial<{ intent_id: string; payload_hash: string; agent_id: string }>;
  } = {},
) {
  const approval = signApproval(device.privateKey, {
    hub: ORIGIN,
    intent_id: intent.intent_id,
    payload_hash: intent.payload_hash,
    decision,
    installation_id: intent.installation_id,
    agent_nonce: intent.agent_nonce!,
    time: hub.clock.now,
  });
  const body: Record<string, unknown> = { approval };
  if (options.secret !== undefined) {
    const context = {
      intent_id: intent.intent_id,
      payload_hash: intent.payload_hash,
      agent_id: intent.agent_id,
      ...options.sealFor,
    };
    body.sealed_secret = toBase64Url(sealSecret(options.boxKey!, utf8Encode(options.secret), context));
  }
  const res = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, body);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
}

const boxKeyOf = (client: AgentClient) => fromBase64UrlFixed(client.publicKeys.box_key, 32, 'box');
const ACTION = { kind: 'action.approve', payload: { summary: 'Archive 3 old papers', risk: 'low' } };

describe('AgentClient: intents, decisions, execute', () => {
  it('request → approve → execute verifies the device approval against the locally computed hash', async () => {
    const hub = await hubFixture();
    const { client, device } = await claimed(hub);
    const intent = await client.createIntent({ ...ACTION, idempotencyKey: 'archive-1' });
    expect(intent).toMatchObject({ kind: 'action.approve', status: 'pending' });
    // Same key, same intent.
    expect((await client.createIntent({ ...ACTION, idempotencyKey: 'archive-1' })).intent_id).toBe(intent.intent_id);
    expect(
      (
        await client
          .createIntent({
            kind: 'action.approve',
            payload: { summary: 'other', risk: 'low' },
            idempotencyKey: 'archive-1',
          })
          .catch((e) => e)
      ).code,
    ).toBe('idempotency_conflict');

    // The decision arrives while the client's long poll is held by the hub: the hub answers at once. (Vitest's
    // 5 s test timeout fails this if the wait only ended with the hub's 25 s hold.)
    const pending: string[] = [];
    const waiting = client.waitForDecision(intent.intent_id, { onPending: (i) => pending.push(i.status) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await decide(hub, device, intent, 'approve');
    const { decision } = await waiting;
    expect(decision).toBe('approved');
    expect(pending).toEqual([]);

    const done = await client.execute(intent.intent_id);
    expect(done.intent.status).toBe('executed');
    expect(done.approval).toMatchObject({ decision: 'approve', intent_id: intent.intent_id });
    expect(done.secret).toBeUndefined();
    // A second execute is refused by the agent itself (it remembers what it executed), before asking the hub.
    expect((await client.execute(intent.intent_id).catch((e) => e)).code).toBe('approval_replayed');
  });

  it('secret.request: the sealed secret opens only for this intent', async () => {
    const hub = await hubFixture();
    const { client, device } = await claimed(hub);
    const intent = await client.createIntent({
      kind: 'secret.request',
      payload: { item: 'arxiv-key', reason: 'download papers' },
    });
    await decide(hub, device, intent, 'approve', { secret: 'ak_live_123', boxKey: boxKeyOf(client) });
    expect((await client.waitForDecision(intent.intent_id)).decision).toBe('approved');
    const done = await client.execute(intent.intent_id);
    expect(utf8Decode(done.secret!)).toBe('ak_live_123');

    // Sealed for another intent (the hub checks only the shape): refused.
    const second = await client.createIntent({
      kind: 'secret.request',
      payload: { item: 'arxiv-key', reason: 'again' },
    });
    await decide(hub, device, second, 'approve', {
      secret: 'ak_live_123',
      boxKey: boxKeyOf(client),
      sealFor: { intent_id: intent.intent_id, payload_hash: intent.payload_hash },
    });
    const err = await client.execute(second.intent_id).catch((e) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err.code).toBe('sealed_untrusted');
  });

  it('denied, expired and timed-out waits', async () => {
    const hub = await hubFixture();
    const { client, device } = await claimed(hub);
    const denied = await client.createIntent(ACTION);
    await decide(hub, device, denied, 'deny');
    expect((await client.waitForDecision(denied.intent_id)).decision).toBe('denied');
    expect((await client.execute(denied.intent_id).catch((e) => e)).code).toBe('intent_required');

    const slow = await client.createIntent({ kind: 'action.approve', payload: { summary: 'slow', risk: 'low' } });
    const sleeper = new AgentClient({
      fetch: appFetch(hub),
      now: () => hub.clock.now,
      sleep: async (ms) => void (hub.clock.now += ms),
      state: client.state!,
    });
    // Under a second left: no long poll, plain polling on the injected clock.
    expect((await sleeper.waitForDecision(slow.intent_id, { timeoutMs: 900, pollMs: 300 }).catch((e) => e)).code).toBe(
      'wait_timeout',
    );
    hub.clock.now += 11 * 60 * 1000;
    expect((await client.waitForDecision(slow.intent_id)).decision).toBe('expired');
  });

  it('does not trust the hub: tampered sealed secret, approval for another hash or by another device, missing approval, changed payload', async () => {
    const hub = await hubFixture();
    const rewrite: { fn?: (path: string, json: any) => any } = {};
    const { client, device } = await claimed(hub, rewrite);
    const onExecute = (change: (json: any) => any) => {
      rewrite.fn = (path, json) => (path.endsWith('/execute') && json.intent ? change(json) : json);
    };

    // Sealed secret changed in transit.
    const s1 = await client.createIntent({ kind: 'secret.request', payload: { item: 'arxiv-key', reason: 'r1' } });
    await decide(hub, device, s1, 'approve', { secret: 'v', boxKey: boxKeyOf(client) });
    onExecute((json) => {
      const bytes = fromBase64Url(json.sealed_secret);
      bytes[bytes.length - 1]! ^= 1;
      return { ...json, sealed_secret: toBase64Url(bytes) };
    });
    expect((await client.execute(s1.intent_id).catch((e) => e)).code).toBe('sealed_untrusted');

    // A genuine device approval, but for another payload hash.
    const a1 = await client.createIntent(ACTION);
    await decide(hub, device, a1, 'approve');
    onExecute((json) => ({
      ...json,
      approval: signApproval(device.privateKey, { ...json.approval.statement, payload_hash: 'ab'.repeat(32) }),
    }));
    expect((await client.execute(a1.intent_id).catch((e) => e)).code).toBe('approval_untrusted');

    // A well-formed approval signed by a device other than the pinned one.
    const a2 = await client.createIntent({ kind: 'action.approve', payload: { summary: 'two', risk: 'low' } });
    await decide(hub, device, a2, 'approve');
    const mallory = hub.newDevice();
    onExecute((json) => ({ ...json, approval: signApproval(mallory.privateKey, json.approval.statement) }));
    expect((await client.execute(a2.intent_id).catch((e) => e)).code).toBe('approval_untrusted');

    // No approval at all, though the signed policy requires one.
    const a3 = await client.createIntent({ kind: 'action.approve', payload: { summary: 'three', risk: 'low' } });
    await decide(hub, device, a3, 'approve');
    onExecute(({ approval: _dropped, ...rest }) => rest);
    expect((await client.execute(a3.intent_id).catch((e) => e)).code).toBe('approval_untrusted');

    // A denial presented as an approval.
    const a4 = await client.createIntent({ kind: 'action.approve', payload: { summary: 'four', risk: 'low' } });
    await decide(hub, device, a4, 'approve');
    onExecute((json) => ({
      ...json,
      approval: signApproval(device.privateKey, { ...json.approval.statement, decision: 'deny' }),
    }));
    expect((await client.execute(a4.intent_id).catch((e) => e)).code).toBe('approval_untrusted');

    // The hub shows a different payload than the one sent.
    rewrite.fn = (path, json) =>
      path === '/v1/intents' ? { ...json, payload: { summary: 'Delete everything', risk: 'low' } } : json;
    expect(
      (await client.createIntent({ kind: 'action.approve', payload: { summary: 'five', risk: 'low' } }).catch((e) => e))
        .code,
    ).toBe('intent_mismatch');
  });
});

describe('AgentClient: approvals from another device of the account', () => {
  /** Pairs a new device into `approver`'s account through the hub (real CKDA statement, real CKPV blob). */
  async function pairInto(hub: Hub, approver: Device) {
    const { ed25519, x25519 } = await import('@noble/curves/ed25519.js');
    const { buildPairingApproval, sealPairedKey } = await import('../../../lib/protocol/device-pairing');
    const device = hub.newDevice();
    const boxKey = x25519.getPublicKey(x25519.utils.randomSecretKey());
    const created = await device.send('POST', '/v1/pairings', pairingRequest(device, boxKey, null));
    const lookup = (await approver.send('POST', '/v1/pairings/lookup', { code: created.json.code })).json;
    const approval = await buildPairingApproval({
      hub: ORIGIN,
      accountId: approver.keyId,
      pairingId: lookup.pairing_id,
      deviceKey: device.publicKey,
      boxKey,
      signer: { publicKey: approver.publicKey, sign: async (m) => ed25519.sign(m, approver.privateKey) },
      seal: async (key, context) =>
        sealPairedKey(key, { vaultId: new Uint8Array(16), vaultKey: new Uint8Array(32).fill(1) }, context),
      now: hub.clock.now,
    });
    expect((await approver.send('POST', `/v1/pairings/${lookup.pairing_id}/approve`, approval)).status).toBe(201);
    return device;
  }

  it('accepts an approval signed by a device the pinned device added; refuses one the hub vouches for itself', async () => {
    const hub = await hubFixture();
    let lie: ((json: any) => any) | null = null;
    const { client, device } = await claimed(hub, {
      fn: (path, json) => (lie && path.endsWith('/execute') ? lie(json) : json),
    });
    const second = await pairInto(hub, device);
    const intent = await client.createIntent({ ...ACTION, idempotencyKey: 'multi-1' });
    await decide(hub, second, intent, 'approve');
    const done = await client.execute(intent.intent_id);
    expect(done.approval).toMatchObject({ decision: 'approve', intent_id: intent.intent_id });

    // A lying hub: approval by a key of its own, with a device-add statement of its own making for that key.
    const { ed25519 } = await import('@noble/curves/ed25519.js');
    const { DEVICE_ADD_FORMAT } = await import('../../../lib/protocol/device-pairing');
    const { signStatement } = await import('../../../lib/protocol/signed-statement');
    const hubKey = ed25519.utils.randomSecretKey();
    const forged = hub.newDevice();
    const intent2 = await client.createIntent({ ...ACTION, idempotencyKey: 'multi-2' });
    await decide(hub, second, intent2, 'approve');
    lie = (json) => {
      const statement = {
        ...json.devices[1].statement.statement,
        device_key: encodePublicKey(forged.publicKey),
        added_by: encodePublicKey(ed25519.getPublicKey(hubKey)),
      };
      const signedByHub = signStatement(DEVICE_ADD_FORMAT, hubKey, statement);
      // Also a statement that claims the pinned device added the forged key, signed by the hub's key.
      const claimingPinned = {
        statement: { ...statement, added_by: encodePublicKey(device.publicKey) },
        signature: signedByHub.signature,
      };
      return {
        ...json,
        approval: signApproval(forged.privateKey, { ...json.approval.statement }),
        devices: [
          ...json.devices,
          {
            device_key_id: forged.keyId,
            device_key: encodePublicKey(forged.publicKey),
            name: null,
            added_at: 0,
            revoked_at: null,
            statement: signedByHub,
          },
          {
            device_key_id: forged.keyId,
            device_key: encodePublicKey(forged.publicKey),
            name: null,
            added_at: 0,
            revoked_at: null,
            statement: claimingPinned,
          },
        ],
      };
    };
    expect((await client.execute(intent2.intent_id).catch((e) => e)).code).toBe('approval_untrusted');

    // Control: the same forged key, but added by a statement the pinned device really signed, is accepted.
    const intent3 = await client.createIntent({ ...ACTION, idempotencyKey: 'multi-3' });
    await decide(hub, second, intent3, 'approve');
    lie = (json) => {
      const statement = {
        ...json.devices[1].statement.statement,
        device_key: encodePublicKey(forged.publicKey),
        added_by: encodePublicKey(device.publicKey),
      };
      return {
        ...json,
        approval: signApproval(forged.privateKey, { ...json.approval.statement }),
        devices: [
          ...json.devices,
          {
            device_key_id: forged.keyId,
            device_key: encodePublicKey(forged.publicKey),
            name: null,
            added_at: 0,
            revoked_at: null,
            statement: signStatement(DEVICE_ADD_FORMAT, device.privateKey, statement),
          },
        ],
      };
    };
    expect((await client.execute(intent3.intent_id)).approval).toMatchObject({
      decision: 'approve',
      intent_id: intent3.intent_id,
    });
  });
});
