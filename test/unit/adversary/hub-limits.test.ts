// @vitest-environment node
// Issue 13 item 12: a caller flooding the hub (every local process reaches it from 127.0.0.1) can neither fill its
// database with registrations nobody claims, nor use up another agent's or device's request budget.
import { describe, expect, it } from 'vitest';
import { CLAIM_TTL_MS } from '../../../hub/routes/agents';
import { purgeUnclaimedAgents } from '../../../hub/registration-purge';
import { hubFixture } from '../hub/flow';

describe('unclaimed registrations are purged after their claim TTL', () => {
  it('a flood of registrations nobody claims does not stay in the database; claimed agents stay', async () => {
    const hub = hubFixture();
    const device = await hub.enrolledDevice();
    const stale = await hub.registeredAgent('never-claimed');
    const claimed = await hub.claimedAgent(device, { name: 'claimed' });
    hub.clock.now += 5000;
    const young = await hub.registeredAgent('young');
    hub.clock.now += CLAIM_TTL_MS - 6000;
    expect(hub.store.agents.get(stale.agentId)).not.toBeNull(); // not before its TTL

    hub.clock.now += 1000; // `stale` is exactly at its claim expiry, `young` 5 s short of its own
    // A new registration purges the expired ones first (no timer needed).
    await hub.registeredAgent('newcomer');
    expect(hub.store.agents.get(stale.agentId)).toBeNull();
    expect(hub.store.agents.get(claimed.agentId)).not.toBeNull();
    expect(hub.store.agents.get(young.agentId)).not.toBeNull();
    // Its claim code is dead and its key unknown.
    const lookup = await device.send('POST', '/v1/claims/lookup', { claim_code: stale.claimCode });
    expect(lookup.json.error.code).toBe('claim_code_invalid');
    expect((await stale.send('GET', '/v1/agents/me')).json.error.code).toBe('auth_unknown_key');
    // The claimed agent still works.
    expect((await claimed.send('GET', '/v1/agents/me')).json.status).toBe('claimed');
  });

  it('the periodic sweep deletes a bounded batch per pass', async () => {
    const hub = hubFixture();
    const agents = [];
    for (let i = 0; i < 5; i++) agents.push(await hub.registeredAgent(`bot-${i}`));
    hub.clock.now += CLAIM_TTL_MS;
    expect(purgeUnclaimedAgents(hub.store, hub.clock.now, 2)).toHaveLength(2);
    expect(purgeUnclaimedAgents(hub.store, hub.clock.now, 2)).toHaveLength(2);
    expect(purgeUnclaimedAgents(hub.store, hub.clock.now, 2)).toHaveLength(1);
    expect(purgeUnclaimedAgents(hub.store, hub.clock.now, 2)).toHaveLength(0);
    for (const a of agents) expect(hub.store.agents.get(a.agentId)).toBeNull();
    // The audit log keeps every registration and still verifies.
    expect([...hub.store.audit.scan()].filter((r) => r.action === 'agent.register')).toHaveLength(5);
  });
});
