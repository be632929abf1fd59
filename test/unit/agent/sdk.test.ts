// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { AgentClient, AgentError, type AgentState, type FetchLike } from '../../../lib/agent';
import { fromBase64UrlFixed } from '../../../lib/protocol/base64url';
import { encodePublicKey } from '../../../lib/protocol/keys';
import { hubFixture, ORIGIN } from '../hub/flow';

type Hub = ReturnType<typeof hubFixture>;

/** A fetch that calls the in-process hub app; `rewrite` may change a response body (a lying hub). */
function appFetch(hub: Hub, rewrite?: (path: string, json: any) => any): FetchLike {
  return async (url, init) => {
    const res = await hub.app.request(url, init);
    if (!rewrite) return res;
    const path = new URL(url).pathname;
    const json = await res.json();
    return new Response(JSON.stringify(rewrite(path, json)), { status: res.status, headers: { 'content-type': 'application/json' } });
  };
}

async function registered(hub: Hub, options: { rewrite?: (path: string, json: any) => any; scopes?: string[] } = {}) {
  const saved: AgentState[] = [];
  const client = new AgentClient({ fetch: appFetch(hub, options.rewrite), now: () => hub.clock.now, onStateChange: (s) => void saved.push(s) });
  const reg = await client.register({
    hub: `${ORIGIN}/`, name: 'sdk-bot', manifest: { markdown: '# sdk-bot\nReads papers.' },
    requestedScopes: options.scopes ?? ['secret:read:arxiv-key', 'action:action.approve'],
  });
  const keys = client.state!;
  // The shape hubFixture().claimFor needs: what the human's device learns from the claim lookup.
  const asFixtureAgent = {
    agentId: reg.agent_id,
    claimCode: reg.claim_code,
    signingKey: fromBase64UrlFixed(client.publicKeys.signing_key, 32, 'k'),
    boxKey: fromBase64UrlFixed(client.publicKeys.box_key, 32, 'k'),
  } as unknown as Parameters<Hub['claimFor']>[1];
  return { client, reg, saved, keys, asFixtureAgent };
}

describe('AgentClient: register, claim, status', () => {
  it('registers, reports unclaimed, then verifies the claim and pins the claiming device', async () => {
    const hub = hubFixture();
    const device = await hub.enrolledDevice();
    const { client, reg, saved, asFixtureAgent } = await registered(hub);
    expect(reg.agent_id).toMatch(/^agt_/);
    expect(reg.claim_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(reg.fingerprint).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ version: 1, hub: ORIGIN, agent_id: reg.agent_id });
    expect(saved[0]!.device_key).toBeUndefined();

    expect(await client.status()).toMatchObject({ status: 'unclaimed', pinned_now: false });

    const claim = hub.claimFor(device, asFixtureAgent, { granted_scopes: ['action:action.approve', 'secret:read:arxiv-key'] });
    expect((await device.send('POST', '/v1/claims', { claim })).status).toBe(201);

    const first = await client.status();
    expect(first).toMatchObject({
      status: 'claimed', pinned_now: true, installation_id: claim.statement.installation_id,
      device_key: encodePublicKey(device.publicKey), granted_scopes: ['action:action.approve', 'secret:read:arxiv-key'],
    });
    expect(saved.at(-1)).toMatchObject({ device_key: encodePublicKey(device.publicKey), installation_id: claim.statement.installation_id });
    expect((await client.status()).pinned_now).toBe(false);

    // A fresh client from the saved state keeps the pin.
    const reloaded = new AgentClient({ fetch: appFetch(hub), now: () => hub.clock.now, state: saved.at(-1)! });
    expect(await reloaded.status()).toMatchObject({ status: 'claimed', pinned_now: false, device_key: encodePublicKey(device.publicKey) });
  });

  it('refuses a claim signed by another device once one is pinned, and a first claim for other keys', async () => {
    const hub = hubFixture();
    const device = await hub.enrolledDevice();
    let forge: ((json: any) => any) | undefined;
    const { client, asFixtureAgent } = await registered(hub, { rewrite: (path, json) => (path === '/v1/agents/me' && forge ? forge(json) : json) });
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
    const swapped = hub.claimFor(device, other.asFixtureAgent, { agent_box_key: encodePublicKey(new Uint8Array(32).fill(9)) });
    forge = (json) => ({ agent_id: json.agent_id, status: 'claimed', installation: { installation_id: swapped.statement.installation_id, granted_scopes: [], claim: swapped } });
    const c2 = new AgentClient({ fetch: appFetch(hub, (path, json) => (path === '/v1/agents/me' ? forge!(json) : json)), now: () => hub.clock.now, state: other.saved[0]! });
    expect((await c2.status().catch((e) => e)).code).toBe('claim_untrusted');
    expect(c2.state!.device_key).toBeUndefined();
  });

  it('passes hub error codes through and checks input locally', async () => {
    const hub = hubFixture();
    const { client } = await registered(hub);
    // Not claimed: the hub refuses to create intents.
    const notClaimed = await client.createIntent({ kind: 'action.approve', payload: { summary: 'x', risk: 'low' } }).catch((e) => e);
    expect(notClaimed).toBeInstanceOf(AgentError);
    expect(['agent_not_claimed', 'not_found']).toContain(notClaimed.code);
    // Bad payload never reaches the hub.
    expect((await client.createIntent({ kind: 'payment.send', payload: { summary: 'x', amount_minor: 1.5 } }).catch((e) => e)).code).toBe('protocol_invalid');
    expect((await client.execute('int_unknown').catch((e) => e)).code).toBe('state_invalid');
    const unregistered = new AgentClient({ fetch: appFetch(hub) });
    expect((await unregistered.status().catch((e) => e)).code).toBe('state_invalid');
    expect((await unregistered.register({ hub: 'http://example.com', name: 'x', manifest: { markdown: 'x' }, requestedScopes: [] }).catch((e) => e)).code).toBe('protocol_invalid');
    // A wrong clock is a hub auth error, passed through.
    const skewed = new AgentClient({ fetch: appFetch(hub), now: () => hub.clock.now - 120_000, state: client.state! });
    expect((await skewed.status().catch((e) => e)).code).toBe('auth_stale');
  });
});
