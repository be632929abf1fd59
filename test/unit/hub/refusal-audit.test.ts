// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../../hub/audit';
import { REFUSAL_AUDIT_WINDOW_MS } from '../../../hub/refusal-audit';
import { hubFixture } from './flow';
import { auditRows } from './audit-rows';

// Issue 15: the Activity tab lists refused attempts. The hub records who was turned away and why (never what was
// asked for), at most once a minute per agent and reason, in the same hash chain as everything else.

const OUT_OF_SCOPE = {
  kind: 'secret.request',
  payload: { item: 'bank-password', reason: 'the reason itself stays out of the log' },
  idempotency_key: 'r-1',
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
};
const ACTION = (n: number) => ({
  kind: 'action.approve',
  payload: { summary: `Step ${n}`, risk: 'low' },
  idempotency_key: `act-${n}`,
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
});

async function setup(policy?: { approval_required: string[]; daily_limit: number | null }) {
  const hub = await hubFixture();
  const device = await hub.enrolledDevice();
  const agent = await hub.claimedAgent(device, policy ? { policy } : {});
  const refusals = async () => (await auditRows(hub.store)).filter((r) => r.action.includes('.refused.'));
  return { hub, device, agent, refusals };
}

describe('refused agent requests are audited', () => {
  it('an out-of-scope request: who, why, which installation; never the item or the reason; throttled per minute', async () => {
    const { hub, device, agent, refusals } = await setup();
    const res = await agent.send('POST', '/v1/intents', OUT_OF_SCOPE);
    expect(res.json.error.code).toBe('scope_not_granted');
    expect(await refusals()).toEqual([
      expect.objectContaining({
        action: 'request.refused.scope',
        actor: `agent:${agent.agentId}`,
        agent: agent.agentId,
        resource: `installation:${agent.installationId}`,
      }),
    ]);
    const stored = JSON.stringify(await auditRows(hub.store));
    expect(stored).not.toContain('bank-password');
    expect(stored).not.toContain('stays out of the log');

    // A loop of refusals adds one entry a minute, not one per attempt.
    for (let i = 0; i < 5; i++) await agent.send('POST', '/v1/intents', { ...OUT_OF_SCOPE, idempotency_key: `r-${i}` });
    expect(await refusals()).toHaveLength(1);
    hub.clock.now += REFUSAL_AUDIT_WINDOW_MS;
    await agent.send('POST', '/v1/intents', { ...OUT_OF_SCOPE, idempotency_key: 'r-later' });
    expect(await refusals()).toHaveLength(2);
    expect((await verifyAudit(hub.store)).ok).toBe(true);

    // The owner's Activity (GET /v1/audit) lists it.
    const page = await device.send('GET', '/v1/audit');
    expect(page.json.entries.map((e: { action: string }) => e.action)).toContain('request.refused.scope');
  });

  it('the daily limit and a locked or revoked installation are recorded with their own reason', async () => {
    const { hub, device, agent, refusals } = await setup({
      approval_required: ['action.approve', 'secret.request'],
      daily_limit: 1,
    });
    expect((await agent.send('POST', '/v1/intents', ACTION(1))).status).toBe(201);
    expect((await agent.send('POST', '/v1/intents', ACTION(2))).json.error.code).toBe('rate_limited');
    expect((await refusals()).map((r) => r.action)).toEqual(['request.refused.rate_limit']);
    // Nothing of the refused request was kept: no intent, no intent.create.
    expect((await auditRows(hub.store)).filter((r) => r.action === 'intent.create')).toHaveLength(1);

    await hub.store.installations.setStatus(agent.installationId, 'locked', hub.clock.now);
    expect((await agent.send('POST', '/v1/intents', ACTION(3))).json.error.code).toBe('forbidden');
    expect((await refusals()).map((r) => r.action)).toEqual(['request.refused.rate_limit', 'request.refused.locked']);

    await hub.store.installations.setStatus(agent.installationId, 'active', hub.clock.now);
    const revoked = await device.send(
      'DELETE',
      `/v1/installations/${agent.installationId}`,
      hub.revocationFor(device, agent),
    );
    expect(revoked.status).toBe(200);
    expect((await agent.send('POST', '/v1/intents', ACTION(4))).json.error.code).toBe('agent_revoked');
    expect((await refusals()).at(-1)).toMatchObject({
      action: 'request.refused.revoked',
      resource: `installation:${agent.installationId}`,
    });
    expect((await verifyAudit(hub.store)).ok).toBe(true);
  });
});
