// @vitest-environment node
// A stolen or retired device keeps its connection open after the person removed it (issue 13 item 5): an event
// stream opened before the removal, and a long poll held on a pending intent. Both must end at once, and no
// intent payload may reach the device after the removal. A flood of streams from one key is capped.
import { describe, expect, it } from 'vitest';
import { intentEvents, MAX_STREAMS_PER_KEY } from '../../../hub/events';
import { hubFixture } from '../hub/flow';

type Hub = Awaited<ReturnType<typeof hubFixture>>;

const ACTION = (n: number) => ({
  kind: 'action.approve',
  payload: { summary: `Secret plan ${n}`, risk: 'low' },
  idempotency_key: `act-${n}`,
  agent_nonce: `nonce-${n}`.padEnd(22, 'A'),
});

/** A second device of the account (stored directly: this test is about streams, not the pairing ceremony). */
async function secondDevice(hub: Hub, owner: { keyId: string }) {
  const device = hub.newDevice();
  await hub.store.devices.create({
    deviceKeyId: device.keyId,
    accountId: owner.keyId,
    publicKey: device.publicKey,
    name: 'Old phone',
    statement: {},
    addedAt: hub.clock.now,
  });
  return device;
}

/** Everything a response body delivers until it ends, or what it delivered by `ms` (then it is cancelled). */
async function readFor(body: ReadableStream<Uint8Array>, ms: number): Promise<{ text: string; ended: boolean }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) {
      await reader.cancel();
      return { text, ended: false };
    }
    const next = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), left))]);
    if (next === null) continue;
    if (next.done) return { text, ended: true };
    text += decoder.decode(next.value, { stream: true });
  }
}

const openStream = async (hub: Hub, device: ReturnType<Hub['newDevice']>) => {
  const res = await hub.app.request('/v1/events', { headers: hub.signedHeaders(device, 'GET', '/v1/events') });
  expect(res.status).toBe(200);
  return res;
};

describe('a removed device loses its streams at once', () => {
  it('a device removed while holding an event stream and a long poll gets neither another event nor the intent', async () => {
    const hub = await hubFixture();
    const owner = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(owner);
    const stolen = await secondDevice(hub, owner);
    const first = (await agent.send('POST', '/v1/intents', ACTION(1))).json;

    const stream = await openStream(hub, stolen);
    const reading = readFor(stream.body!, 3000);
    const pollPath = `/v1/intents/${first.intent_id}?wait=30`;
    const started = Date.now();
    const poll = hub.app.request(pollPath, { headers: hub.signedHeaders(stolen, 'GET', pollPath) });
    await new Promise((r) => setTimeout(r, 50));
    expect(intentEvents(hub.store).heldCount(`device:${stolen.keyId}`, 'poll')).toBe(1);

    expect((await owner.send('DELETE', `/v1/devices/${stolen.keyId}`, hub.removalFor(owner, stolen))).status).toBe(200);
    // After the removal: a new intent (its payload must not reach the removed device).
    await agent.send('POST', '/v1/intents', ACTION(2));

    const polled = await poll;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(polled.status).toBe(403);
    expect((await polled.json()).error.code).toBe('device_revoked');

    const { text, ended } = await reading;
    expect(ended).toBe(true);
    expect(text).toContain('Secret plan 1'); // sent on connect, before the removal
    expect(text).not.toContain('Secret plan 2');
    expect(intentEvents(hub.store).heldCount(`device:${stolen.keyId}`, 'stream')).toBe(0);
  });

  it("revoking an installation ends the agent's held poll at once", async () => {
    const hub = await hubFixture();
    const owner = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(owner);
    const intent = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const started = Date.now();
    const poll = agent.send('GET', `/v1/intents/${intent.intent_id}?wait=30`);
    await new Promise((r) => setTimeout(r, 50));
    await owner.send('DELETE', `/v1/installations/${agent.installationId}`, hub.revocationFor(owner, agent));
    const res = await poll;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.json.error.code).toBe('agent_revoked');
  });

  it(`one key opening more than ${MAX_STREAMS_PER_KEY} streams holds only ${MAX_STREAMS_PER_KEY}: the oldest are closed`, async () => {
    const hub = await hubFixture();
    const owner = await hub.enrolledDevice();
    const streams: Response[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_KEY + 2; i++) {
      streams.push(await openStream(hub, owner));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(intentEvents(hub.store).heldCount(`device:${owner.keyId}`, 'stream')).toBe(MAX_STREAMS_PER_KEY);
    const [oldest, second, ...rest] = await Promise.all(streams.map((s) => readFor(s.body!, 300)));
    expect(oldest!.ended && second!.ended).toBe(true);
    for (const r of rest) expect(r.ended).toBe(false);
  });
});
