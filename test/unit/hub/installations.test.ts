// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { encodePublicKey, fingerprint } from '../../../lib/protocol/keys';
import { verifyAudit } from '../../../hub/audit';
import { hubFixture, ORIGIN } from './flow';
import { auditRows } from './audit-rows';

const ACTION = (n: number) => ({
  kind: 'action.approve',
  payload: { summary: `Step ${n}`, risk: 'high' },
  idempotency_key: `act-${n}`,
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
});

async function setup() {
  const hub = await hubFixture();
  const device = await hub.enrolledDevice();
  const agent = await hub.claimedAgent(device);
  return { hub, device, agent };
}

describe('installations', () => {
  it('lists the human’s own installations with name, fingerprint, scopes, status and last activity', async () => {
    const { hub, device, agent } = await setup();
    await agent.send('POST', '/v1/intents', ACTION(1));
    const list = await device.send('GET', '/v1/installations');
    expect(list.status).toBe(200);
    expect(list.json.installations).toEqual([
      {
        installation_id: agent.installationId,
        agent_id: agent.agentId,
        agent_name: 'research-bot',
        fingerprint: fingerprint(agent.signingKey),
        agent_signing_key: encodePublicKey(agent.signingKey),
        agent_box_key: encodePublicKey(agent.boxKey),
        key_binding: {
          statement: {
            hub: ORIGIN,
            role: 'agent',
            signing_key: encodePublicKey(agent.signingKey),
            box_key: encodePublicKey(agent.boxKey),
            name: 'research-bot',
            time: expect.any(Number),
          },
          signature: expect.any(String),
        },
        granted_scopes: ['action:action.approve', 'secret:read:arxiv-key'],
        policy: {
          approval_required: ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'],
          daily_limit: null,
        },
        status: 'active',
        consecutive_denials: 0,
        created_at: hub.clock.now,
        last_activity: hub.clock.now,
        // The owner's signed claim, verbatim (the device re-learns its own installations from it).
        claim: expect.objectContaining({
          statement: expect.objectContaining({ installation_id: agent.installationId }),
          signature: expect.any(String),
        }),
        revocation: null,
      },
    ]);
    const stranger = await hub.enrolledDevice(await hub.extraEnrollmentCode());
    expect((await stranger.send('GET', '/v1/installations')).json.installations).toEqual([]);
    expect((await agent.send('GET', '/v1/installations')).json.error.code).toBe('forbidden');
  });

  it('revocation takes effect on the next request; open intents expire; only /v1/agents/me still answers', async () => {
    const { hub, device, agent } = await setup();
    const pending = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const approved = (await agent.send('POST', '/v1/intents', ACTION(2))).json;
    await device.send('POST', `/v1/intents/${approved.intent_id}/decision`, {
      approval: hub.approvalFor(device, approved),
    });

    const stranger = await hub.enrolledDevice(await hub.extraEnrollmentCode());
    expect((await stranger.send('DELETE', `/v1/installations/${agent.installationId}`)).json.error.code).toBe(
      'not_found',
    );

    hub.clock.now += 1000;
    // Only with a CKIR the calling device signed for this hub, installation and agent key (issue 13 item 9).
    const other = await hub.registeredAgent('other-bot');
    for (const body of [
      undefined,
      {},
      { revocation: null },
      hub.revocationFor(device, agent, { hub: 'https://other.example' }),
      hub.revocationFor(device, { installationId: agent.installationId, signingKey: other.signingKey }),
      hub.revocationFor(device, agent, { revoked_by: encodePublicKey(stranger.publicKey) }),
      hub.revocationFor(stranger, agent),
    ]) {
      const refused = await device.send('DELETE', `/v1/installations/${agent.installationId}`, body);
      expect(refused.json.error.code).toBe('revocation_invalid');
    }
    expect((await agent.send('GET', '/v1/agents/me')).json.status).toBe('claimed');
    const revoked = await device.send(
      'DELETE',
      `/v1/installations/${agent.installationId}`,
      hub.revocationFor(device, agent),
    );
    expect(revoked.json).toEqual({ installation_id: agent.installationId, revoked_at: hub.clock.now });
    // Stored and served verbatim: to the owner's devices and to the agent, with the devices to check its signer.
    const served = (await device.send('GET', '/v1/installations')).json.installations[0].revocation;
    expect(served).toEqual(hub.revocationFor(device, agent).revocation);
    const me = (await agent.send('GET', '/v1/agents/me')).json;
    expect(me.installation.revocation).toEqual(served);
    expect(me.devices.map((d: { device_key_id: string }) => d.device_key_id)).toEqual([device.keyId]);

    expect((await agent.send('POST', '/v1/intents', ACTION(3))).json.error.code).toBe('agent_revoked');
    expect((await agent.send('GET', `/v1/intents/${pending.intent_id}`)).json.error.code).toBe('agent_revoked');
    expect((await agent.send('POST', `/v1/intents/${approved.intent_id}/execute`)).json.error.code).toBe(
      'agent_revoked',
    );
    expect((await agent.send('GET', '/v1/agents/me')).json.status).toBe('revoked');

    expect((await device.send('GET', '/v1/intents?status=pending')).json.intents).toEqual([]);
    expect((await device.send('GET', `/v1/intents/${pending.intent_id}`)).json.status).toBe('expired');
    expect((await device.send('GET', `/v1/intents/${approved.intent_id}`)).json.status).toBe('expired');
    const late = await device.send('POST', `/v1/intents/${pending.intent_id}/decision`, {
      approval: hub.approvalFor(device, pending),
    });
    expect(late.json.error.code).toBe('intent_expired');

    // Idempotent: a second revoke reports the first.
    hub.clock.now += 1000;
    expect(
      (await device.send('DELETE', `/v1/installations/${agent.installationId}`, hub.revocationFor(device, agent))).json
        .revoked_at,
    ).toBe(revoked.json.revoked_at);
    expect((await device.send('POST', `/v1/installations/${agent.installationId}/enable`)).json.error.code).toBe(
      'forbidden',
    );

    // The sweep later expires the stored row without a second audit row.
    hub.clock.now = pending.expires_at + 1;
    await device.send('GET', '/v1/intents?status=pending');
    const rows = await auditRows(hub.store);
    expect(rows.filter((r) => r.action === 'installation.revoke')).toHaveLength(1);
    expect(rows.filter((r) => r.action === 'intent.expire').map((r) => r.resource)).toEqual([
      `intent:${pending.intent_id}`,
    ]);
    expect(await verifyAudit(hub.store)).toMatchObject({ ok: true });
  });

  it('locks after 5 denials in a row until the human re-enables it', async () => {
    const { hub, device, agent } = await setup();
    for (let i = 0; i < 5; i++) {
      const intent = (await agent.send('POST', '/v1/intents', ACTION(i))).json;
      const res = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
        approval: hub.approvalFor(device, intent, 'deny'),
      });
      expect(res.json.status).toBe('denied');
    }
    const locked = await agent.send('POST', '/v1/intents', ACTION(5));
    expect([locked.status, locked.json.error.code]).toEqual([403, 'forbidden']);
    expect(locked.json.error.message).toContain('locked after 5 denials');
    expect(locked.json.error.message).toContain('re-enable');
    expect((await device.send('GET', '/v1/installations')).json.installations[0].status).toBe('locked');
    expect((await auditRows(hub.store)).some((r) => r.action === 'installation.lock')).toBe(true);

    expect((await agent.send('POST', `/v1/installations/${agent.installationId}/enable`)).json.error.code).toBe(
      'forbidden',
    );
    const enabled = await device.send('POST', `/v1/installations/${agent.installationId}/enable`);
    expect(enabled.json).toMatchObject({ status: 'active', consecutive_denials: 0 });
    const after = await agent.send('POST', '/v1/intents', ACTION(5));
    expect(after.status).toBe(201);
    // The streak starts over: one more denial does not lock again.
    await device.send('POST', `/v1/intents/${after.json.intent_id}/decision`, {
      approval: hub.approvalFor(device, after.json, 'deny'),
    });
    expect((await agent.send('POST', '/v1/intents', ACTION(6))).status).toBe(201);
  });

  it('an approval resets the denial streak', async () => {
    const { hub, device, agent } = await setup();
    for (let i = 0; i < 9; i++) {
      const intent = (await agent.send('POST', '/v1/intents', ACTION(i))).json;
      await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
        approval: hub.approvalFor(device, intent, i === 4 ? 'approve' : 'deny'),
      });
    }
    expect((await device.send('GET', '/v1/installations')).json.installations[0]).toMatchObject({
      status: 'active',
      consecutive_denials: 4,
    });
  });
});
