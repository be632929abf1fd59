// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { utf8Decode, utf8Encode } from '../../../lib/bytes';
import { verifyApproval } from '../../../lib/protocol/approval';
import { fromBase64Url, toBase64Url } from '../../../lib/protocol/base64url';
import { payloadHash } from '../../../lib/protocol/intent-hash';
import { decodePublicKey } from '../../../lib/protocol/keys';
import { openSealedSecret, sealSecret } from '../../../lib/protocol/sealed-secret';
import { verifyAudit } from '../../../hub/audit';
import { intentEvents } from '../../../hub/events';
import { EXECUTE_REPLAY_MS, purgeDeliveredSecrets } from '../../../hub/execute-replay';
import { hubFixture, ORIGIN } from './flow';
import { auditRows } from './audit-rows';

const SECRET_INTENT = {
  kind: 'secret.request',
  payload: { item: 'arxiv-key', reason: 'Fetch new papers' },
  idempotency_key: 'req-1',
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
};
const ACTION = (n: number) => ({
  kind: 'action.approve',
  payload: { summary: `Step ${n}`, risk: 'low' },
  idempotency_key: `act-${n}`,
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
});

async function setup() {
  const hub = await hubFixture();
  const device = await hub.enrolledDevice();
  const agent = await hub.claimedAgent(device);
  return { hub, device, agent };
}

describe('intent lifecycle', () => {
  it('create → list → approve with a sealed secret → execute; the agent verifies the approval and opens the secret', async () => {
    const { hub, device, agent } = await setup();
    const created = await agent.send('POST', '/v1/intents', SECRET_INTENT);
    expect(created.status).toBe(201);
    const intent = created.json;
    expect(intent).toMatchObject({
      agent_id: agent.agentId,
      installation_id: agent.installationId,
      kind: 'secret.request',
      payload: SECRET_INTENT.payload,
      payload_hash: payloadHash('secret.request', SECRET_INTENT.payload),
      status: 'pending',
      risk: 'medium',
      created_at: hub.clock.now,
      expires_at: hub.clock.now + 10 * 60 * 1000,
    });
    expect(intent.approval).toBeUndefined();

    const list = await device.send('GET', '/v1/intents?status=pending');
    expect(list.status).toBe(200);
    expect(list.json.intents).toEqual([intent]);
    expect((await device.send('GET', `/v1/intents/${intent.intent_id}`)).json).toEqual(intent);
    expect((await agent.send('GET', `/v1/intents/${intent.intent_id}`)).json).toEqual(intent);

    // The device seals the secret to the agent's box key for exactly this intent, and signs the exact hash.
    const context = { intent_id: intent.intent_id, payload_hash: intent.payload_hash, agent_id: agent.agentId };
    const sealed = toBase64Url(sealSecret(agent.boxKey, utf8Encode('arxiv-secret-123'), context));
    const approval = hub.approvalFor(device, intent);
    hub.clock.now += 5_000;
    const decided = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval,
      sealed_secret: sealed,
    });
    expect(decided.status).toBe(200);
    expect(decided.json).toMatchObject({ status: 'approved', decided_at: hub.clock.now, approval });
    expect((await device.send('GET', '/v1/intents?status=pending')).json.intents).toEqual([]);

    const executed = await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`);
    expect(executed.status).toBe(200);
    expect(executed.json.intent).toMatchObject({ status: 'executed', executed_at: hub.clock.now });
    expect(executed.json.approval).toEqual(approval);

    // The agent trusts the device key from its own signed claim, not the hub.
    const me = await agent.send('GET', '/v1/agents/me');
    const deviceKey = decodePublicKey(me.json.installation.claim.statement.device_key, 'ed25519');
    const statement = verifyApproval(deviceKey, executed.json.approval, {
      hub: ORIGIN,
      intent_id: intent.intent_id,
      payload_hash: payloadHash(SECRET_INTENT.kind, SECRET_INTENT.payload),
      installation_id: agent.installationId,
      agent_nonce: intent.agent_nonce,
    });
    expect(statement.decision).toBe('approve');
    const plaintext = openSealedSecret(agent.boxPrivate, fromBase64Url(executed.json.sealed_secret), context);
    expect(utf8Decode(plaintext)).toBe('arxiv-secret-123');

    // Executed once in effect (one audit row), answered again within the replay window: see the next test.
    expect(await verifyAudit(hub.store)).toMatchObject({ ok: true });
    const actions = (await auditRows(hub.store)).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['intent.create', 'intent.approve', 'intent.execute']));
  });

  it('execute is idempotent for its own agent for 10 minutes (a lost answer), then the ciphertext is deleted (issue 16)', async () => {
    const { hub, device, agent } = await setup();
    const intent = (await agent.send('POST', '/v1/intents', SECRET_INTENT)).json;
    const context = { intent_id: intent.intent_id, payload_hash: intent.payload_hash, agent_id: agent.agentId };
    await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent),
      sealed_secret: toBase64Url(sealSecret(agent.boxKey, utf8Encode('arxiv-secret-123'), context)),
    });
    const first = await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`);
    expect(first.status).toBe(200);
    // The answer was lost on the way: the agent asks again and gets the same result, sealed secret included.
    hub.clock.now += EXECUTE_REPLAY_MS - 1;
    const again = await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(utf8Decode(openSealedSecret(agent.boxPrivate, fromBase64Url(again.json.sealed_secret), context))).toBe(
      'arxiv-secret-123',
    );
    // Still at most once in effect: one execution recorded, and no other agent gets anything.
    const rows = (await auditRows(hub.store)).filter((r) => r.resource === `intent:${intent.intent_id}`);
    expect(rows.filter((r) => r.action === 'intent.execute')).toHaveLength(1);
    const otherAgent = await hub.claimedAgent(device, { name: 'other-bot' });
    const theirs = await otherAgent.send('POST', `/v1/intents/${intent.intent_id}/execute`);
    expect([theirs.status, theirs.json.error.code, theirs.json.sealed_secret]).toEqual([404, 'not_found', undefined]);

    // After the window: refused, and the server's sweep deletes the ciphertext.
    hub.clock.now += 1;
    const late = await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`);
    expect([late.status, late.json.error.code, late.json.sealed_secret]).toEqual([
      409,
      'intent_already_executed',
      undefined,
    ]);
    expect(await hub.store.sealedSecrets.get(intent.intent_id)).not.toBeNull();
    expect(await purgeDeliveredSecrets(hub.store, hub.clock.now)).toBe(1);
    expect(await hub.store.sealedSecrets.get(intent.intent_id)).toBeNull();
    expect(await verifyAudit(hub.store)).toMatchObject({ ok: true });
  });

  it('an execute answer is not replayed once the installation is revoked', async () => {
    const { hub, device, agent } = await setup();
    const intent = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent),
    });
    expect((await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`)).status).toBe(200);
    // Revoked: the agent is refused outright (agent_revoked), also for the replay.
    await device.send('DELETE', `/v1/installations/${agent.installationId}`, hub.revocationFor(device, agent));
    const after = await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`);
    expect([after.status, after.json.error.code]).toEqual([403, 'agent_revoked']);
  });

  it('a denial is final and cannot be executed', async () => {
    const { hub, device, agent } = await setup();
    const intent = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const denied = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent, 'deny'),
    });
    expect(denied.json.status).toBe('denied');
    expect((await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`)).json.error.code).toBe(
      'intent_required',
    );
    const second = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent),
    });
    expect(second.json.error.code).toBe('intent_not_pending');
  });

  it('GET /v1/intents/:id?wait=N holds a pending intent and answers as soon as it is decided', async () => {
    const { hub, device, agent } = await setup();
    const intent = (await agent.send('POST', '/v1/intents', ACTION(7))).json;
    expect((await agent.send('GET', `/v1/intents/${intent.intent_id}?wait=31`)).json.error.code).toBe(
      'protocol_invalid',
    );
    let answered = false;
    const held = agent.send('GET', `/v1/intents/${intent.intent_id}?wait=30`).then((r) => ((answered = true), r));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent),
    });
    expect((await held).json.status).toBe('approved');
    // A decided intent is answered at once, wait or not.
    expect((await agent.send('GET', `/v1/intents/${intent.intent_id}?wait=30`)).json.status).toBe('approved');
  });

  it('a held long poll wakes on its own intent only, not on other changes in the account (issue 16)', async () => {
    const { hub, device, agent } = await setup();
    const other = await hub.claimedAgent(device, { name: 'other-bot' });
    const mine = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const held = agent.send('GET', `/v1/intents/${mine.intent_id}?wait=30`);
    // Bounded wait until the poll is subscribed (no timing asserted).
    for (let i = 0; i < 200 && intentEvents(hub.store).heldCount(`agent:${agent.agentId}`, 'poll') === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(intentEvents(hub.store).heldCount(`agent:${agent.agentId}`, 'poll')).toBe(1);
    // Traffic in the same account: another agent's intent created and denied, another of this agent's created.
    const theirs = (await other.send('POST', '/v1/intents', ACTION(2))).json;
    await device.send('POST', `/v1/intents/${theirs.intent_id}/decision`, {
      approval: hub.approvalFor(device, theirs, 'deny'),
    });
    await agent.send('POST', '/v1/intents', ACTION(3));
    // Had any of those woken the poll, it would have answered "pending". It answers when its intent is decided.
    await device.send('POST', `/v1/intents/${mine.intent_id}/decision`, { approval: hub.approvalFor(device, mine) });
    expect((await held).json).toMatchObject({ intent_id: mine.intent_id, status: 'approved' });
  });

  it('a kind the signed policy does not require approval for is approved at creation, without a statement', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device, {
      policy: { approval_required: ['secret.request'], daily_limit: null },
    });
    const created = await agent.send('POST', '/v1/intents', ACTION(1));
    expect(created.json).toMatchObject({ status: 'approved' });
    const executed = await agent.send('POST', `/v1/intents/${created.json.intent_id}/execute`);
    expect(executed.json.intent.status).toBe('executed');
    expect(executed.json.approval).toBeUndefined();
  });
});

describe('creating intents', () => {
  it('refuses replayed and stale signed requests', async () => {
    const { hub, agent } = await setup();
    let captured: { headers: Record<string, string>; body?: string } = { headers: {} };
    const first = await agent.send(
      'POST',
      '/v1/intents',
      ACTION(1),
      (init) => void (captured = { headers: { ...init.headers }, body: init.body }),
    );
    expect(first.status).toBe(201);
    const replay = await hub.app.request('/v1/intents', {
      method: 'POST',
      headers: captured.headers,
      body: captured.body,
    });
    expect([replay.status, (await replay.json()).error.code]).toEqual([401, 'auth_replayed']);

    hub.clock.now -= 61_000;
    let stale: typeof captured = { headers: {} };
    await agent.send(
      'POST',
      '/v1/intents',
      ACTION(2),
      (init) => void (stale = { headers: { ...init.headers }, body: init.body }),
    );
    hub.clock.now += 61_000;
    const res = await hub.app.request('/v1/intents', { method: 'POST', headers: stale.headers, body: stale.body });
    expect((await res.json()).error.code).toBe('auth_stale');
  });

  it('refuses a scope that was not granted, an unclaimed agent, a human caller and a malformed payload', async () => {
    const { hub, device, agent } = await setup();
    const wrongItem = await agent.send('POST', '/v1/intents', {
      ...SECRET_INTENT,
      payload: { item: 'bank-password', reason: 'x' },
    });
    expect([wrongItem.status, wrongItem.json.error.code]).toEqual([403, 'scope_not_granted']);
    const wrongKind = await agent.send('POST', '/v1/intents', {
      kind: 'payment.send',
      payload: { summary: 'Pay', amount_minor: 100, currency: 'EUR', payee: 'ACME' },
      idempotency_key: 'p1',
      agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
    });
    expect(wrongKind.json.error.code).toBe('scope_not_granted');
    const unclaimed = await hub.registeredAgent('loose-bot');
    expect((await unclaimed.send('POST', '/v1/intents', ACTION(1))).json.error.code).toBe('agent_not_claimed');
    expect((await device.send('POST', '/v1/intents', ACTION(1))).json.error.code).toBe('forbidden');
    const bad = await agent.send('POST', '/v1/intents', { ...ACTION(1), payload: { summary: 'x', risk: 'extreme' } });
    expect(bad.json.error.code).toBe('protocol_invalid');
  });

  it('idempotency: the same key and payload give the same intent, another payload a conflict', async () => {
    const { agent } = await setup();
    const a = await agent.send('POST', '/v1/intents', ACTION(1));
    const b = await agent.send('POST', '/v1/intents', ACTION(1));
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.json.intent_id).toBe(a.json.intent_id);
    const conflict = await agent.send('POST', '/v1/intents', {
      ...ACTION(2),
      idempotency_key: 'act-1',
      agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
    });
    expect([conflict.status, conflict.json.error.code]).toEqual([409, 'idempotency_conflict']);
  });

  it('rate-limits per installation with Retry-After', async () => {
    const { agent } = await setup();
    for (let i = 0; i < 20; i++) expect((await agent.send('POST', '/v1/intents', ACTION(i))).status).toBe(201);
    const limited = await agent.send('POST', '/v1/intents', ACTION(20));
    expect([limited.status, limited.json.error.code]).toEqual([429, 'rate_limited']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('budgets are per installation, not per account: busy agents cannot spend a quiet agent’s first request (issue 16)', async () => {
    const { hub, device, agent } = await setup();
    const busy = [agent, await hub.claimedAgent(device, { name: 'b' }), await hub.claimedAgent(device, { name: 'c' })];
    for (const a of busy) {
      for (let i = 0; i < 20; i++) expect((await a.send('POST', '/v1/intents', ACTION(i))).status).toBe(201);
      expect((await a.send('POST', '/v1/intents', ACTION(20))).status).toBe(429);
    }
    const quiet = await hub.claimedAgent(device, { name: 'quiet' });
    const first = await quiet.send('POST', '/v1/intents', ACTION(0));
    expect([first.status, first.json.status]).toEqual([201, 'pending']);
  });
});

describe('decisions and execution', () => {
  it('another human cannot see, decide or execute an intent; another agent cannot see or execute it', async () => {
    const { hub, device, agent } = await setup();
    const intent = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const stranger = await hub.enrolledDevice(await hub.extraEnrollmentCode());
    const strangerAgent = await hub.claimedAgent(stranger, { name: 'other-bot' });
    expect((await stranger.send('GET', `/v1/intents/${intent.intent_id}`)).json.error.code).toBe('not_found');
    expect((await stranger.send('GET', '/v1/intents?status=pending')).json.intents).toEqual([]);
    const decide = await stranger.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(stranger, intent),
    });
    expect(decide.json.error.code).toBe('not_found');
    expect((await strangerAgent.send('GET', `/v1/intents/${intent.intent_id}`)).json.error.code).toBe('not_found');
    await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent),
    });
    expect((await strangerAgent.send('POST', `/v1/intents/${intent.intent_id}/execute`)).json.error.code).toBe(
      'not_found',
    );
    expect((await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`)).status).toBe(200);
  });

  it('refuses an approval for another payload hash and one signed by another device', async () => {
    const { hub, device, agent } = await setup();
    const intent = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    // What the human saw (and signed) is not what the agent submitted.
    const otherHash = payloadHash('action.approve', { summary: 'Something else', risk: 'low' });
    const swapped = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, { ...intent, payload_hash: otherHash } as Record<string, any>),
    });
    expect([swapped.status, swapped.json.error.code]).toEqual([400, 'approval_invalid']);
    const otherDevice = hub.newDevice();
    const forged = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(otherDevice, intent),
    });
    expect(forged.json.error.code).toBe('approval_invalid');
    const otherHub = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent, 'approve', { hub: 'http://127.0.0.1:9999' }),
    });
    expect(otherHub.json.error.code).toBe('approval_invalid');
    expect((await device.send('GET', `/v1/intents/${intent.intent_id}`)).json.status).toBe('pending');
  });

  it('sealed_secret: required for approving a secret.request, refused otherwise, and must be CKSS-shaped', async () => {
    const { hub, device, agent } = await setup();
    const secret = (await agent.send('POST', '/v1/intents', SECRET_INTENT)).json;
    const action = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const sealed = toBase64Url(
      sealSecret(agent.boxKey, utf8Encode('s'), {
        intent_id: secret.intent_id,
        payload_hash: secret.payload_hash,
        agent_id: agent.agentId,
      }),
    );
    const path = (i: Record<string, any>) => `/v1/intents/${i.intent_id}/decision`;
    expect(
      (await device.send('POST', path(secret), { approval: hub.approvalFor(device, secret) })).json.error.code,
    ).toBe('protocol_invalid');
    expect(
      (await device.send('POST', path(action), { approval: hub.approvalFor(device, action), sealed_secret: sealed }))
        .json.error.code,
    ).toBe('protocol_invalid');
    const garbage = toBase64Url(new Uint8Array(100).fill(7));
    expect(
      (await device.send('POST', path(secret), { approval: hub.approvalFor(device, secret), sealed_secret: garbage }))
        .json.error.code,
    ).toBe('sealed_invalid');
    expect(
      (
        await device.send('POST', path(secret), {
          approval: hub.approvalFor(device, secret, 'deny'),
          sealed_secret: sealed,
        })
      ).json.error.code,
    ).toBe('protocol_invalid');
    expect(
      (await device.send('POST', path(secret), { approval: hub.approvalFor(device, secret), sealed_secret: sealed }))
        .json.status,
    ).toBe('approved');
  });

  it('expiry: past expires_at an intent cannot be decided or executed, leaves the pending list, and is audited', async () => {
    const { hub, device, agent } = await setup();
    const a = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const b = (await agent.send('POST', '/v1/intents', ACTION(2))).json;
    await device.send('POST', `/v1/intents/${b.intent_id}/decision`, { approval: hub.approvalFor(device, b) });
    hub.clock.now = a.expires_at;
    const late = await device.send('POST', `/v1/intents/${a.intent_id}/decision`, {
      approval: hub.approvalFor(device, a),
    });
    expect([late.status, late.json.error.code]).toEqual([410, 'intent_expired']);
    expect((await agent.send('POST', `/v1/intents/${b.intent_id}/execute`)).json.error.code).toBe('intent_expired');
    expect((await agent.send('GET', `/v1/intents/${a.intent_id}`)).json.status).toBe('expired');
    expect((await agent.send('GET', `/v1/intents/${b.intent_id}`)).json.status).toBe('expired');
    expect((await device.send('GET', '/v1/intents?status=pending')).json.intents).toEqual([]);
    expect((await hub.store.intents.get(a.intent_id))!.status).toBe('expired');
    expect((await auditRows(hub.store)).filter((r) => r.action === 'intent.expire').map((r) => r.resource)).toEqual([
      `intent:${a.intent_id}`,
    ]);
  });

  it('only status=pending lists', async () => {
    const { device } = await setup();
    expect((await device.send('GET', '/v1/intents')).json.error.code).toBe('protocol_invalid');
    expect((await device.send('GET', '/v1/intents?status=approved')).json.error.code).toBe('protocol_invalid');
  });
});
