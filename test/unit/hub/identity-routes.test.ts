// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { verifyClaim } from '../../../lib/protocol/approval';
import { encodePublicKey } from '../../../lib/protocol/keys';
import { verifyAudit } from '../../../hub/audit';
import { hubFixture, ORIGIN } from './flow';

describe('enrolment: POST /v1/accounts', () => {
  it('enrols a device with the one-time code; the code then stops working', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    expect(await hub.store.accounts.get(device.keyId)).not.toBeNull();
    const other = hub.newDevice();
    const again = await other.send('POST', '/v1/accounts', {
      enrollment_code: hub.enrollmentCode,
      device_key: encodePublicKey(other.publicKey),
    });
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe('enrollment_code_invalid');
    expect(await hub.store.accounts.count()).toBe(1);
  });

  it('refuses a wrong code, a key the signer does not hold, and an unsigned request', async () => {
    const hub = await hubFixture();
    const device = hub.newDevice();
    const wrong = await device.send('POST', '/v1/accounts', {
      enrollment_code: 'BCDF-GHJK',
      device_key: encodePublicKey(device.publicKey),
    });
    expect(wrong.json.error.code).toBe('enrollment_code_invalid');
    const stranger = hub.newDevice();
    // Signed by `device`, but claims stranger's key: no proof of possession.
    const theft = await device.send('POST', '/v1/accounts', {
      enrollment_code: hub.enrollmentCode,
      device_key: encodePublicKey(stranger.publicKey),
    });
    expect(theft.status).toBe(401);
    const unsigned = await hub.send(null, 'POST', '/v1/accounts', {
      enrollment_code: hub.enrollmentCode,
      device_key: encodePublicKey(device.publicKey),
    });
    expect(unsigned.json.error.code).toBe('auth_missing');
    expect(await hub.store.accounts.count()).toBe(0);
  });

  it('rate-limits guessing', async () => {
    const hub = await hubFixture();
    const device = hub.newDevice();
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await device.send('POST', '/v1/accounts', {
        enrollment_code: 'BCDF-GHJK',
        device_key: encodePublicKey(device.publicKey),
      });
      codes.push(res.json.error.code);
    }
    expect(codes.slice(0, 5).every((c) => c === 'enrollment_code_invalid')).toBe(true);
    expect(codes[5]).toBe('rate_limited');
  });
});

describe('signed requests', () => {
  it('rejects stale, replayed, tampered and wrong-role requests', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.registeredAgent();

    const ok = await agent.send('GET', '/v1/agents/me');
    expect(ok.status).toBe(200);

    // Replay: the exact same headers again.
    let captured: Record<string, string> = {};
    await agent.send('GET', '/v1/agents/me', undefined, (init) => void (captured = { ...init.headers }));
    const replay = await hub.app.request('/v1/agents/me', { headers: captured });
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('auth_replayed');

    // Stale: signed 61 s ago.
    hub.clock.now -= 61_000;
    let staleHeaders: Record<string, string> = {};
    await agent.send('GET', '/v1/agents/me', undefined, (init) => void (staleHeaders = { ...init.headers }));
    hub.clock.now += 61_000;
    const stale = await hub.app.request('/v1/agents/me', { headers: staleHeaders });
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('auth_stale');

    // Body changed after signing.
    const tampered = await device.send('POST', '/v1/claims/lookup', { claim_code: agent.claimCode }, (init) => {
      init.body = JSON.stringify({ claim_code: 'ZZZZ-ZZZZ' });
    });
    expect(tampered.json.error.code).toBe('auth_bad_signature');

    // An agent on a human endpoint, a human on an agent endpoint.
    expect((await agent.send('POST', '/v1/claims/lookup', { claim_code: agent.claimCode })).json.error.code).toBe(
      'forbidden',
    );
    expect((await device.send('GET', '/v1/agents/me')).json.error.code).toBe('forbidden');
    // A device that never enrolled.
    expect(
      (await hub.newDevice().send('POST', '/v1/claims/lookup', { claim_code: agent.claimCode })).json.error.code,
    ).toBe('auth_unknown_key');
  });
});

describe('claims', () => {
  it('lookup shows the agent; claim creates an installation the agent can verify; the code is single use', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.registeredAgent();
    expect((await agent.send('GET', '/v1/agents/me')).json).toEqual({ agent_id: agent.agentId, status: 'unclaimed' });

    const lookup = await device.send('POST', '/v1/claims/lookup', {
      claim_code: agent.claimCode.toLowerCase().replace('-', ''),
    });
    expect(lookup.status).toBe(200);
    expect(lookup.json).toMatchObject({
      agent_id: agent.agentId,
      name: 'research-bot',
      requested_scopes: ['action:action.approve', 'secret:read:arxiv-key'],
    });
    expect(lookup.json.fingerprint).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/);

    const claim = hub.claimFor(device, agent);
    const created = await device.send('POST', '/v1/claims', { claim });
    expect(created.status).toBe(201);
    expect(created.json.installation_id).toBe(claim.statement.installation_id);

    const me = await agent.send('GET', '/v1/agents/me');
    expect(me.json.status).toBe('claimed');
    // The agent checks the claim itself, pinning its own keys: it need not trust the hub.
    const verified = verifyClaim(me.json.installation.claim, {
      hub: ORIGIN,
      agent_id: agent.agentId,
      agent_signing_key: encodePublicKey(agent.signingKey),
      agent_box_key: encodePublicKey(agent.boxKey),
    });
    expect(verified.device_key).toBe(encodePublicKey(device.publicKey));

    expect((await device.send('POST', '/v1/claims/lookup', { claim_code: agent.claimCode })).json.error.code).toBe(
      'claim_code_invalid',
    );
    expect((await device.send('POST', '/v1/claims', { claim: hub.claimFor(device, agent) })).json.error.code).toBe(
      'agent_already_claimed',
    );
    expect(await verifyAudit(hub.store)).toMatchObject({ ok: true });
  });

  it('refuses claims for other keys, extra scopes, a wrong code, another hub, or an expired code', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.registeredAgent();
    const other = await hub.registeredAgent('other-bot');
    const cases = [
      hub.claimFor(device, agent, { agent_box_key: encodePublicKey(other.boxKey) }),
      hub.claimFor(device, agent, { granted_scopes: ['secret:read:arxiv-key', 'secret:read:bank-password'] }),
      hub.claimFor(device, agent, { claim_code_hash: '0'.repeat(64) }),
      hub.claimFor(device, agent, { hub: 'http://127.0.0.1:9999' }),
    ];
    for (const claim of cases)
      expect((await device.send('POST', '/v1/claims', { claim })).json.error.code).toBe('claim_invalid');
    // Signed by one device, sent by another.
    const second = hub.newDevice();
    const forged = hub.claimFor(second, agent);
    expect((await device.send('POST', '/v1/claims', { claim: forged })).json.error.code).toBe('claim_invalid');
    hub.clock.now += 11 * 60 * 1000;
    expect((await device.send('POST', '/v1/claims', { claim: hub.claimFor(device, agent) })).json.error.code).toBe(
      'claim_code_invalid',
    );
    expect(await hub.store.installations.listByAgent(agent.agentId)).toHaveLength(0);
  });
});
