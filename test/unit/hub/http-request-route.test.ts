// @vitest-environment node
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../../lib/bytes';
import { openResponseDelivery, buildResponseDelivery, type HttpOutcome } from '../../../lib/protocol/sealed-response';
import { hubFixture, ORIGIN } from './flow';

// Issue 18 at the hub: an http.request needs the agent's http:HOST scope; approving it needs the outcome the device
// sealed and signed for exactly this intent; a denial may carry the device's sealed reason, which only the agent gets.

const CALL = {
  method: 'GET',
  url: 'https://api.example.com/v1/me',
  headers: [['authorization', 'Bearer {{secret:GitHub token}}']],
};
const intentBody = (payload: object, n = 1) => ({
  kind: 'http.request',
  payload,
  idempotency_key: `call-${n}`,
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
});
const ANSWER: HttpOutcome = {
  outcome: 'response',
  status: 200,
  headers: [['content-type', 'application/json']],
  body: toBase64(new TextEncoder().encode('{"login":"octo"}')),
  redacted: [],
  withheld: false,
  redirect: null,
};

async function setup() {
  const hub = await hubFixture();
  const device = await hub.enrolledDevice();
  const agent = await hub.claimedAgent(device, { granted: ['http:api.example.com'] });
  const delivery = (intent: Record<string, any>, outcome: HttpOutcome, key = device.privateKey) =>
    buildResponseDelivery({
      hub: ORIGIN,
      agent_id: agent.agentId,
      installation_id: agent.installationId,
      intent_id: intent.intent_id,
      payload_hash: intent.payload_hash,
      boxKey: agent.boxKey,
      outcome,
      sign: async (m) => ed25519.sign(m, key),
      now: hub.clock.now,
    });
  return { hub, device, agent, delivery };
}

describe('http.request at the hub (issue 18)', () => {
  it('needs the http:HOST scope for the URL host; is medium risk and waits for the device', async () => {
    const { agent } = await setup();
    const created = await agent.send('POST', '/v1/intents', intentBody(CALL));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ kind: 'http.request', status: 'pending', risk: 'medium' });
    const other = await agent.send(
      'POST',
      '/v1/intents',
      intentBody({ ...CALL, url: 'https://evil.example.net/collect' }, 2),
    );
    expect([other.status, other.json.error.code]).toEqual([403, 'scope_not_granted']);
    const plain = await agent.send('POST', '/v1/intents', intentBody({ ...CALL, url: 'http://api.example.com/' }, 3));
    expect([plain.status, plain.json.error.code]).toEqual([400, 'protocol_invalid']);
  });

  it('approving needs the outcome the device sealed and signed for this intent; the agent gets it at execute', async () => {
    const { hub, device, agent, delivery } = await setup();
    const intent = (await agent.send('POST', '/v1/intents', intentBody(CALL))).json;
    const url = `/v1/intents/${intent.intent_id}/decision`;
    const approval = hub.approvalFor(device, intent);
    const bare = await device.send('POST', url, { approval });
    expect([bare.status, bare.json.error.code]).toEqual([400, 'protocol_invalid']);
    // Signed by a key that is not the deciding device's, or for another intent: refused, nothing stored.
    const forged = await delivery(intent, ANSWER, ed25519.utils.randomSecretKey());
    expect((await device.send('POST', url, { approval, http_response: forged })).json.error.code).toBe(
      'sealed_invalid',
    );
    const other = await delivery({ ...intent, intent_id: 'int_other' }, ANSWER);
    expect((await device.send('POST', url, { approval, http_response: other })).json.error.code).toBe('sealed_invalid');
    const sealedSecret = await device.send('POST', url, { approval, sealed_secret: 'Q0tTUwE' });
    expect(sealedSecret.status).toBe(400);
    expect((await agent.send('GET', `/v1/intents/${intent.intent_id}`)).json.status).toBe('pending');

    const real = await delivery(intent, ANSWER);
    const decided = await device.send('POST', url, { approval, http_response: real });
    expect([decided.status, decided.json.status]).toEqual([200, 'approved']);
    const executed = await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`);
    expect(executed.status).toBe(200);
    expect(executed.json.sealed_secret).toBeUndefined();
    const opened = openResponseDelivery(device.publicKey, agent.boxPrivate, executed.json.http_response, {
      hub: ORIGIN,
      agent_id: agent.agentId,
      installation_id: agent.installationId,
      intent_id: intent.intent_id,
      payload_hash: intent.payload_hash,
    });
    expect(opened.outcome).toEqual(ANSWER);
  });

  it("a denial with the device's refusal: the agent reads it on its GET, the device's own GET does not carry it", async () => {
    const { hub, device, agent, delivery } = await setup();
    const intent = (await agent.send('POST', '/v1/intents', intentBody(CALL))).json;
    const refused: HttpOutcome = { outcome: 'refused', code: 'http_host_not_allowed', message: 'Not that host.' };
    const denied = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent, 'deny'),
      http_response: await delivery(intent, refused),
    });
    expect([denied.status, denied.json.status]).toEqual([200, 'denied']);
    const seen = await agent.send('GET', `/v1/intents/${intent.intent_id}`);
    expect(seen.json.status).toBe('denied');
    expect(
      openResponseDelivery(device.publicKey, agent.boxPrivate, seen.json.http_response, {
        hub: ORIGIN,
        agent_id: agent.agentId,
        installation_id: agent.installationId,
        intent_id: intent.intent_id,
        payload_hash: intent.payload_hash,
      }).outcome,
    ).toEqual(refused);
    expect((await device.send('GET', `/v1/intents/${intent.intent_id}`)).json.http_response).toBeUndefined();
  });

  it('an http_response with any other kind is refused', async () => {
    const { hub, device, delivery } = await setup();
    const agent = await hub.claimedAgent(device, { name: 'other-bot' });
    const intent = (
      await agent.send('POST', '/v1/intents', {
        kind: 'action.approve',
        payload: { summary: 'Step', risk: 'low' },
        idempotency_key: 'act-1',
        agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
      })
    ).json;
    const res = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent),
      http_response: await delivery(intent, ANSWER),
    });
    expect([res.status, res.json.error.code]).toEqual([400, 'protocol_invalid']);
  });
});
