// @vitest-environment node
// Issue 18, the agent's side: AgentClient.httpRequest against the real in-process hub, with the person's device
// played by its real key (signed decisions, real CKHR/CKRS deliveries from buildResponseDelivery).
import { describe, expect, it } from 'vitest';
import { AgentError, httpRequestPayload, type HttpRequestInput, type HttpRequestResult } from '../../../lib/agent';
import { payloadHash } from '../../../lib/protocol/intent-hash';
import type { Intent } from '../../../lib/protocol/wire';
import { hubFixture } from '../hub/flow';
import { claimed, decideHttp, httpDelivery, responseOutcome, type Device, type Hub } from './sdk-fixture';

const HOST = 'api.example.com';
const PR: HttpRequestInput = {
  method: 'POST',
  url: `https://${HOST}/repos/o/r/pulls`,
  headers: [
    ['Authorization', 'Bearer {{secret:GitHub token}}'],
    ['Content-Type', 'application/json'],
  ],
  body: { text: '{"title":"Fix"}' },
  reason: 'Open the pull request you asked for',
};

async function setUp(granted = [`http:${HOST}`] as const) {
  const hub = await hubFixture();
  const agent = await claimed(hub, undefined, { granted: [...granted] as never });
  const boxKey = agent.client.publicKeys.box_key;
  return { hub, ...agent, boxKey };
}

/**
 * Runs `httpRequest` while the device answers the intent as soon as the hub holds it (the client's onCreated):
 * `device` decides what the person's browser would. Resolves with the client's result or its error.
 */
async function ask(
  t: { hub: Hub; device: Device; client: Awaited<ReturnType<typeof setUp>>['client'] },
  input: HttpRequestInput,
  device: (intent: Intent) => Promise<void>,
) {
  let deciding: Promise<void> | undefined;
  const result = await t.client
    .httpRequest(input, { onCreated: (intent) => void (deciding = device(intent)) })
    .catch((e: unknown) => e);
  await deciding;
  return result;
}

describe('AgentClient.httpRequest (issue 18)', () => {
  it('approved: returns the response the device sealed, verified as its own, for the payload sent', async () => {
    const t = await setUp();
    let seen: Intent | undefined;
    const outcome = responseOutcome('{"number":7,"auth":"Bearer [redacted by Clawkeep]"}', {
      status: 201,
      redacted: ['verbatim'],
    });
    const result = await ask(t, PR, async (intent) => {
      seen = intent;
      await decideHttp(
        t.hub,
        t.device,
        intent,
        'approve',
        await httpDelivery(t.hub, intent, outcome, t.boxKey, t.device.privateKey),
      );
    });
    expect(result).not.toBeInstanceOf(Error);
    const r = result as HttpRequestResult;
    // Header names are lower-cased for the payload; what the hub stored is exactly what was sent and hashed here.
    expect(seen!.payload).toEqual({
      method: 'POST',
      url: `https://${HOST}/repos/o/r/pulls`,
      headers: [
        ['authorization', 'Bearer {{secret:GitHub token}}'],
        ['content-type', 'application/json'],
      ],
      body: { text: '{"title":"Fix"}' },
      reason: 'Open the pull request you asked for',
    });
    expect(seen!.payload_hash).toBe(payloadHash('http.request', httpRequestPayload(PR)));
    expect(r.outcome).toEqual(outcome);
    expect(r.intent.status).toBe('executed');
    expect(r.approval).toMatchObject({ decision: 'approve', intent_id: seen!.intent_id });
    // Used once: a second execute is refused by the agent itself.
    expect((await t.client.execute(seen!.intent_id).catch((e) => e)).code).toBe('approval_replayed');
  });

  it("a call that got no answer is returned as 'failed' with the device's code and words", async () => {
    const t = await setUp();
    const failed = {
      outcome: 'failed' as const,
      code: 'http_call_timeout',
      message: `${HOST} did not answer within 30 s.`,
    };
    const result = await ask(t, { method: 'GET', url: `https://${HOST}/slow` }, async (intent) =>
      decideHttp(
        t.hub,
        t.device,
        intent,
        'approve',
        await httpDelivery(t.hub, intent, failed, t.boxKey, t.device.privateKey),
      ),
    );
    expect(result).toMatchObject({ outcome: failed });
  });

  it("refused by the device unasked: http_refused carrying the device's words and code", async () => {
    const t = await setUp();
    const refused = {
      outcome: 'refused' as const,
      code: 'http_host_not_allowed',
      message: `“GitHub token” may not be sent to ${HOST}.`,
    };
    const err = await ask(t, PR, async (intent) =>
      decideHttp(
        t.hub,
        t.device,
        intent,
        'deny',
        await httpDelivery(t.hub, intent, refused, t.boxKey, t.device.privateKey),
      ),
    );
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ code: 'http_refused', message: refused.message, deviceCode: 'http_host_not_allowed' });
    expect((err as AgentError).toJSON()).toEqual({
      code: 'http_refused',
      message: refused.message,
      device_code: 'http_host_not_allowed',
    });

    // Approved, then refused at the call (the device found it may not make it after all): the same error.
    const late = await ask(t, { method: 'GET', url: `https://${HOST}/user` }, async (intent) =>
      decideHttp(
        t.hub,
        t.device,
        intent,
        'approve',
        await httpDelivery(t.hub, intent, refused, t.boxKey, t.device.privateKey),
      ),
    );
    expect(late).toMatchObject({ code: 'http_refused', deviceCode: 'http_host_not_allowed' });
  });

  it('a plain denial is intent_denied; an expired request intent_expired', async () => {
    const t = await setUp();
    const denied = await ask(t, PR, (intent) => decideHttp(t.hub, t.device, intent, 'deny'));
    expect(denied).toBeInstanceOf(AgentError);
    expect((denied as AgentError).code).toBe('intent_denied');

    const expired = await ask(t, { method: 'GET', url: `https://${HOST}/later` }, async () => {
      t.hub.clock.now += 11 * 60_000;
    });
    expect((expired as AgentError).code).toBe('intent_expired');
  });

  it('checks the request locally: nothing reaches the hub for a URL or header the payload refuses; scopes are the hub’s', async () => {
    const t = await setUp();
    const bad: HttpRequestInput[] = [
      { method: 'GET', url: `http://${HOST}/plain` },
      { method: 'GET', url: `https://${HOST}/x#frag` },
      { method: 'GET', url: `https://${HOST}/x`, headers: [['Cookie', 'a=b']] },
      { method: 'GET', url: `https://${HOST}/x`, body: { text: 'no body on GET' } },
      { method: 'GET', url: `https://${HOST}/x`, headers: [['authorization', '{{secret:unclosed']] },
    ];
    for (const input of bad) {
      const err = await t.client.httpRequest(input).catch((e) => e);
      expect(err, input.url).toBeInstanceOf(AgentError);
      expect(err.code, input.url).toBe('protocol_invalid');
    }
    const elsewhere = await t.client.httpRequest({ method: 'GET', url: 'https://evil.example/steal' }).catch((e) => e);
    expect(elsewhere.code).toBe('scope_not_granted');
  });
});
