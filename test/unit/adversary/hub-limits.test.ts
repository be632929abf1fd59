// @vitest-environment node
// Issue 13 item 12: a caller flooding the hub (every local process reaches it from 127.0.0.1) can neither fill its
// database with registrations nobody claims, nor use up another agent's or device's request budget.
import { describe, expect, it } from 'vitest';
import { CLAIM_TTL_MS } from '../../../hub/routes/agents';
import { purgeUnclaimedAgents } from '../../../hub/registration-purge';
import { hubFixture } from '../hub/flow';
import { auditRows } from '../hub/audit-rows';

describe('unclaimed registrations are purged after their claim TTL', () => {
  it('a flood of registrations nobody claims does not stay in the database; claimed agents stay', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const stale = await hub.registeredAgent('never-claimed');
    const claimed = await hub.claimedAgent(device, { name: 'claimed' });
    hub.clock.now += 5000;
    const young = await hub.registeredAgent('young');
    hub.clock.now += CLAIM_TTL_MS - 6000;
    expect(await hub.store.agents.get(stale.agentId)).not.toBeNull(); // not before its TTL

    hub.clock.now += 1000; // `stale` is exactly at its claim expiry, `young` 5 s short of its own
    // A new registration purges the expired ones first (no timer needed).
    await hub.registeredAgent('newcomer');
    expect(await hub.store.agents.get(stale.agentId)).toBeNull();
    expect(await hub.store.agents.get(claimed.agentId)).not.toBeNull();
    expect(await hub.store.agents.get(young.agentId)).not.toBeNull();
    // Its claim code is dead and its key unknown.
    const lookup = await device.send('POST', '/v1/claims/lookup', { claim_code: stale.claimCode });
    expect(lookup.json.error.code).toBe('claim_code_invalid');
    expect((await stale.send('GET', '/v1/agents/me')).json.error.code).toBe('auth_unknown_key');
    // The claimed agent still works.
    expect((await claimed.send('GET', '/v1/agents/me')).json.status).toBe('claimed');
  });

  it('the periodic sweep deletes a bounded batch per pass', async () => {
    const hub = await hubFixture();
    const agents = [];
    for (let i = 0; i < 5; i++) agents.push(await hub.registeredAgent(`bot-${i}`));
    hub.clock.now += CLAIM_TTL_MS;
    expect(await purgeUnclaimedAgents(hub.store, hub.clock.now, 2)).toHaveLength(2);
    expect(await purgeUnclaimedAgents(hub.store, hub.clock.now, 2)).toHaveLength(2);
    expect(await purgeUnclaimedAgents(hub.store, hub.clock.now, 2)).toHaveLength(1);
    expect(await purgeUnclaimedAgents(hub.store, hub.clock.now, 2)).toHaveLength(0);
    for (const a of agents) expect(await hub.store.agents.get(a.agentId)).toBeNull();
    // The audit log keeps every registration and still verifies.
    expect((await auditRows(hub.store)).filter((r) => r.action === 'agent.register')).toHaveLength(5);
  });
});

describe('signed requests are limited per signing key, not per address', () => {
  const limit = { burst: 5, sustained: 5, perSeconds: 60 };

  it('one agent exhausting its budget on loopback does not starve another agent from the same address', async () => {
    const hub = await hubFixture(undefined, { signedRequestLimit: limit });
    const device = await hub.enrolledDevice();
    const noisy = await hub.claimedAgent(device, { name: 'noisy' });
    const quiet = await hub.claimedAgent(device, { name: 'quiet' });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await noisy.send('GET', '/v1/agents/me')).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const refused = await noisy.send('GET', '/v1/agents/me');
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Same address (in-process, like every local caller on 127.0.0.1): the other agent and the device still get through.
    expect((await quiet.send('GET', '/v1/agents/me')).status).toBe(200);
    expect((await device.send('GET', '/v1/intents?status=pending')).status).toBe(200);
    // The budget refills with time.
    hub.clock.now += 12_000;
    expect((await noisy.send('GET', '/v1/agents/me')).status).toBe(200);
  });

  it('one key spreading its requests over many routes is still limited as one', async () => {
    const hub = await hubFixture(undefined, { signedRequestLimit: limit });
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    const routes = [
      '/v1/agents/me',
      '/v1/intents/int_nope',
      '/v1/agent/config',
      '/v1/agents/me',
      '/v1/intents/int_other',
    ];
    for (const path of routes) expect((await agent.send('GET', path)).status).not.toBe(429);
    for (const path of routes) expect((await agent.send('GET', path)).json?.error?.code).toBe('rate_limited');
  });

  it("a forger naming a key id it does not hold spends none of that key's budget", async () => {
    const hub = await hubFixture(undefined, { signedRequestLimit: limit });
    const device = await hub.enrolledDevice();
    const victim = await hub.claimedAgent(device);
    for (let i = 0; i < 10; i++) {
      const forged = await victim.send(
        'GET',
        '/v1/agents/me',
        undefined,
        (init) =>
          void (init.headers['ck-signature'] = init.headers['ck-signature']!.replace(/^./, (c) =>
            c === 'A' ? 'B' : 'A',
          )),
      );
      expect(forged.status).toBe(401);
    }
    expect((await victim.send('GET', '/v1/agents/me')).status).toBe(200);
  });
});
