// @vitest-environment node
// Issue 13 item 9 (signed part): device removal and installation revocation are statements a device signs (CKDR,
// CKIR), not the hub's word. The agent is the real SDK, the syncing device's device list check is the real
// trustedHeadSigners, and the hub is the real in-process hub behind MaliciousHub, which rewrites what it serves:
//   (a) a hub that forges a removal (revoked_at set, no / invalid / other-account / other-hub statement) does not
//       make the agent or a syncing device treat that device as removed;
//   (b) a hub that drops a valid removal statement later cannot revive the device for an agent that saw it;
//   (c) an approval signed by a device after a valid CKDR is refused by the agent;
//   (d) a hub that un-revokes an installation after the agent saw a valid CKIR gets nothing from that agent.
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { AgentClient, type AgentState } from '../../../lib/agent';
import { signApproval } from '../../../lib/protocol/approval';
import { fromBase64UrlFixed, toBase64Url } from '../../../lib/protocol/base64url';
import { deviceAddBytes, type DeviceAddStatement, type DeviceListEntry } from '../../../lib/protocol/device-pairing';
import { HubClient } from '../../../lib/hub-client/client';
import { encodePublicKey } from '../../../lib/protocol/keys';
import type { Intent } from '../../../lib/protocol/wire';
import { trustedHeadSigners } from '../../../lib/sync/trusted-devices';
import { MaliciousHub } from '../../adversary/malicious-hub';
import { hubFixture, ORIGIN } from '../hub/flow';

const ACTION = (n: number) => ({ kind: 'action.approve', payload: { summary: `Deploy step ${n}`, risk: 'high' } });

async function setUp() {
  const hub = await hubFixture();
  const evil = MaliciousHub.inProcess(hub.app.request);
  const owner = await hub.enrolledDevice();
  const accountId = owner.keyId;
  // A second device of the account, paired the honest way: the owner signed its CKDA.
  const second = hub.newDevice();
  const add: DeviceAddStatement = {
    hub: ORIGIN,
    account_id: accountId,
    device_key: encodePublicKey(second.publicKey),
    box_key: encodePublicKey(new Uint8Array(32).fill(7)),
    added_by: encodePublicKey(owner.publicKey),
    pairing_id: 'pair_second',
    sealed_sha256: '0'.repeat(64),
    time: hub.clock.now,
  };
  await hub.store.devices.create({
    deviceKeyId: second.keyId,
    accountId,
    publicKey: second.publicKey,
    name: 'Phone',
    addedAt: hub.clock.now,
    statement: { statement: add, signature: toBase64Url(ed25519.sign(deviceAddBytes(add), owner.privateKey)) } as never,
  });
  let saved: AgentState | undefined;
  const agent = new AgentClient({
    fetch: evil.fetch,
    now: () => hub.clock.now,
    onStateChange: (s) => void (saved = s),
  });
  const reg = await agent.register({
    hub: ORIGIN,
    name: 'deploy-bot',
    manifest: { markdown: '# deploy bot' },
    requestedScopes: ['action:action.approve'],
  });
  const agentKeys = {
    agentId: reg.agent_id,
    claimCode: reg.claim_code,
    signingKey: fromBase64UrlFixed(agent.publicKeys.signing_key, 32, 'signing_key'),
    boxKey: fromBase64UrlFixed(agent.publicKeys.box_key, 32, 'box_key'),
  };
  const claim = hub.claimFor(owner, agentKeys as never, { granted_scopes: ['action:action.approve'] });
  expect((await owner.send('POST', '/v1/claims', { claim })).status).toBe(201);
  await agent.status();
  const installation = { installationId: claim.statement.installation_id, signingKey: agentKeys.signingKey };
  /** `device` signs an approval for `intent` (the hub records it if the device may still call it). */
  const approvalBy = (device: { privateKey: Uint8Array }, intent: Intent) =>
    signApproval(device.privateKey, {
      hub: ORIGIN,
      intent_id: intent.intent_id,
      payload_hash: intent.payload_hash,
      decision: 'approve',
      installation_id: intent.installation_id,
      agent_nonce: intent.agent_nonce!,
      time: hub.clock.now,
    });
  const decide = async (device: typeof owner, intent: Intent) =>
    expect(
      (await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, { approval: approvalBy(device, intent) }))
        .status,
    ).toBe(200);
  /** The owner removes the second device properly: a CKDR it signs, sent with the DELETE. */
  const removeSecond = async () =>
    expect((await owner.send('DELETE', `/v1/devices/${second.keyId}`, hub.removalFor(owner, second))).status).toBe(200);
  /** A device list entry as the hub would serve it for the second device, with `change` applied. */
  const rewriteSecond = (change: (d: DeviceListEntry) => DeviceListEntry) => (json: { devices?: DeviceListEntry[] }) =>
    json.devices
      ? { ...json, devices: json.devices.map((d) => (d.device_key_id === second.keyId ? change(d) : d)) }
      : json;
  const syncClient = () =>
    new HubClient({
      hub: ORIGIN,
      signer: { role: 'human', keyId: owner.keyId, sign: async (m) => ed25519.sign(m, owner.privateKey) },
      now: () => hub.clock.now,
      fetch: evil.fetch as unknown as typeof fetch,
    });
  return {
    hub,
    evil,
    owner,
    second,
    accountId,
    agent,
    installation,
    approvalBy,
    decide,
    removeSecond,
    rewriteSecond,
    syncClient,
    saved: () => saved!,
  };
}
type T = Awaited<ReturnType<typeof setUp>>;

/** Forged removals of the second device a hub could serve (it holds no device key of this account). */
async function forgeries(t: T): Promise<[string, (d: DeviceListEntry) => DeviceListEntry][]> {
  const stranger = t.hub.newDevice();
  const otherAccount = await t.hub.enrolledDevice(await t.hub.extraEnrollmentCode());
  const flip = (sig: string) => (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  const genuine = t.hub.removalFor(t.owner, t.second).removal;
  return [
    ['revoked_at only', (d) => ({ ...d, revoked_at: t.hub.clock.now })],
    [
      'a statement with a broken signature',
      (d) => ({ ...d, revoked_at: t.hub.clock.now, removal: { ...genuine, signature: flip(genuine.signature) } }),
    ],
    [
      'a statement signed by a key of its own',
      (d) => ({
        ...d,
        revoked_at: t.hub.clock.now,
        removal: t.hub.removalFor(stranger, t.second, t.accountId).removal,
      }),
    ],
    [
      'a statement by a device of another account',
      (d) => ({
        ...d,
        revoked_at: t.hub.clock.now,
        removal: t.hub.removalFor(otherAccount, t.second, otherAccount.keyId).removal,
      }),
    ],
    [
      'a statement for another hub',
      (d) => ({
        ...d,
        revoked_at: t.hub.clock.now,
        removal: t.hub.removalFor(t.owner, t.second, t.accountId, { hub: 'https://other-hub.example' }).removal,
      }),
    ],
  ];
}

describe('a hub that forges a device removal', () => {
  it('does not make the agent refuse approvals of that device (revoked_at, or a statement no device of the account signed)', async () => {
    const t = await setUp();
    for (const [what, forge] of await forgeries(t)) {
      const attack = t.evil.rewriteJson('POST /v1/intents/:id/execute', t.rewriteSecond(forge));
      const intent = await t.agent.createIntent(ACTION(1));
      await t.decide(t.second, intent);
      const done = await t.agent.execute(intent.intent_id).catch((e) => e);
      expect(attack.hits, what).toBe(1);
      expect(done.approval?.decision, `${what}: ${done.message ?? ''}`).toBe('approve');
      expect(t.saved().removed_devices, what).toBeUndefined();
      attack.stop();
    }
  });

  it('does not make a syncing device treat that device as removed (its heads stay trusted)', async () => {
    const t = await setUp();
    const own = { keyId: t.owner.keyId, publicKey: t.owner.publicKey };
    for (const [what, forge] of await forgeries(t)) {
      const attack = t.evil.rewriteJson('GET /v1/devices', t.rewriteSecond(forge));
      const got = await trustedHeadSigners(t.syncClient(), own, t.accountId);
      expect(attack.hits, what).toBe(1);
      expect(got.removed, what).toEqual([]);
      expect(got.keys.map(encodePublicKey), what).toContain(encodePublicKey(t.second.publicKey));
      attack.stop();
    }
    // The genuine removal, by contrast, is taken.
    await t.removeSecond();
    expect((await trustedHeadSigners(t.syncClient(), own, t.accountId)).removed).toEqual([
      encodePublicKey(t.second.publicKey),
    ]);
  });
});

describe('a device removed by a signed CKDR', () => {
  it('cannot approve for the agent: an approval it signed after its removal is refused', async () => {
    const t = await setUp();
    await t.removeSecond();
    const intent = await t.agent.createIntent(ACTION(2));
    // The owner approves at the hub; the hub (colluding with the removed device) relays the removed device's
    // signature instead, with the real device list (the CKDR in it).
    await t.decide(t.owner, intent);
    t.evil.rewriteJson('POST /v1/intents/:id/execute', (json) => ({
      ...json,
      approval: t.approvalBy(t.second, intent),
      devices: json.devices,
    }));
    const got = await t.agent.execute(intent.intent_id).catch((e) => e);
    expect(got.code).toBe('approval_untrusted');
    expect(t.saved().removed_devices?.map((r) => r.device_key)).toEqual([encodePublicKey(t.second.publicKey)]);
  });

  it('stays removed for the agent when the hub later drops the statement and lists it as active (also after a restart)', async () => {
    const t = await setUp();
    await t.removeSecond();
    // The agent sees the device list once, with the removal (an ordinary approval by the owner).
    const first = await t.agent.createIntent(ACTION(3));
    await t.decide(t.owner, first);
    expect((await t.agent.execute(first.intent_id)).approval?.decision).toBe('approve');
    expect(t.saved().removed_devices?.map((r) => r.device_key)).toEqual([encodePublicKey(t.second.publicKey)]);
    // Now the hub forgets the removal and relays an approval the removed device signed.
    const restarted = new AgentClient({ fetch: t.evil.fetch, state: t.saved(), now: () => t.hub.clock.now });
    const next = await restarted.createIntent(ACTION(4));
    await t.decide(t.owner, next);
    t.evil.rewriteJson('POST /v1/intents/:id/execute', (json) => ({
      ...t.rewriteSecond((d) => ({ ...d, revoked_at: null, removal: null }))(json),
      approval: t.approvalBy(t.second, next),
    }));
    const got = await restarted.execute(next.intent_id).catch((e) => e);
    expect(got.code).toBe('approval_untrusted');
  });
});

describe('a hub that un-revokes an installation the human revoked with a signed CKIR', () => {
  it('gets nothing from an agent that saw the revocation: no request sent, no approval accepted, also after a restart', async () => {
    const t = await setUp();
    const open = await t.agent.createIntent(ACTION(5));
    await t.decide(t.owner, open);
    expect(
      (
        await t.owner.send(
          'DELETE',
          `/v1/installations/${t.installation.installationId}`,
          t.hub.revocationFor(t.owner, t.installation),
        )
      ).status,
    ).toBe(200);
    expect(await t.agent.status()).toMatchObject({ status: 'revoked', revocation: 'signed' });
    expect(t.saved().revoked?.installation_id).toBe(t.installation.installationId);
    // The hub un-revokes: its store says active again, its answers carry no revocation, and it would execute.
    await t.hub.store.installations.setStatus(t.installation.installationId, 'active', t.hub.clock.now);
    t.evil.rewriteJson('GET /v1/agents/me', (json) => ({
      ...json,
      status: 'claimed',
      installation: { ...json.installation, revocation: null },
      devices: undefined,
    }));
    const before = t.evil.exchanges.length;
    for (const agent of [
      t.agent,
      new AgentClient({ fetch: t.evil.fetch, state: t.saved(), now: () => t.hub.clock.now }),
    ]) {
      expect(await agent.status()).toMatchObject({ status: 'revoked', revocation: 'signed' });
      await expect(agent.createIntent(ACTION(6))).rejects.toMatchObject({ code: 'installation_revoked' });
      await expect(agent.execute(open.intent_id)).rejects.toMatchObject({ code: 'installation_revoked' });
      await expect(agent.config()).rejects.toMatchObject({ code: 'installation_revoked' });
    }
    expect(t.evil.exchanges.length).toBe(before);
  });

  it('a hub that only says "revoked" (no CKIR, or one the device did not sign) does not stop the agent for good', async () => {
    const t = await setUp();
    const stranger = t.hub.newDevice();
    for (const revocation of [
      undefined,
      t.hub.revocationFor(stranger, t.installation).revocation,
      t.hub.revocationFor(t.owner, t.installation, { hub: 'https://other-hub.example' }).revocation,
    ]) {
      const attack = t.evil.rewriteJson(
        'GET /v1/agents/me',
        (json) => ({ ...json, status: 'revoked', installation: { ...json.installation, revocation } }),
        1,
      );
      expect(await t.agent.status()).toMatchObject({ status: 'revoked', revocation: 'unverified' });
      expect(attack.hits).toBe(1);
      expect(t.saved().revoked).toBeUndefined();
    }
    // The hub stops lying: the agent works on.
    const intent = await t.agent.createIntent(ACTION(7));
    await t.decide(t.owner, intent);
    expect((await t.agent.execute(intent.intent_id)).approval?.decision).toBe('approve');
  });
});
