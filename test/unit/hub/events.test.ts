// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';
import { intentEvents } from '../../../hub/events';
import { EVENTS_PING_MS } from '../../../hub/routes/events';
import { hubFixture } from './flow';

const ACTION = (n: number) => ({
  kind: 'action.approve',
  payload: { summary: `Step ${n}`, risk: 'low' },
  idempotency_key: `act-${n}`,
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
});

/** Reads server-sent events from a response body, one parsed `{event, data}` (or `{comment}`) at a time. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(): Promise<{ event?: string; data?: unknown; comment?: string }> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) return { comment: block.slice(1).trim() };
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          return { event, data: JSON.parse(data) };
        }
        const { done, value } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('GET /v1/events', () => {
  it('sends the pending list on connect and again when an intent is created, decided or its installation revoked', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    const res = await hub.app.request('/v1/events', { headers: hub.signedHeaders(device, 'GET', '/v1/events') });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = sseReader(res.body!);
    expect(await events.next()).toEqual({ event: 'intents', data: { intents: [] } });

    const created = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    expect(await events.next()).toEqual({ event: 'intents', data: { intents: [created] } });

    await device.send('POST', `/v1/intents/${created.intent_id}/decision`, {
      approval: hub.approvalFor(device, created, 'deny'),
    });
    expect(await events.next()).toEqual({ event: 'intents', data: { intents: [] } });

    const second = (await agent.send('POST', '/v1/intents', ACTION(2))).json;
    expect((await events.next()).data).toEqual({ intents: [second] });
    await device.send('DELETE', `/v1/installations/${agent.installationId}`, hub.revocationFor(device, agent));
    expect((await events.next()).data).toEqual({ intents: [] });

    await events.cancel();
    // Closing the stream unsubscribes it.
    await new Promise((r) => setTimeout(r, 10));
    expect(intentEvents(hub.store).subscriberCount(device.keyId)).toBe(0);
  });

  it('sees only its own account’s intents, and refuses unsigned, replayed and agent requests', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    const stranger = await hub.enrolledDevice(await hub.extraEnrollmentCode());
    const strangerAgent = await hub.claimedAgent(stranger, { name: 'other-bot' });

    const headers = hub.signedHeaders(device, 'GET', '/v1/events');
    const res = await hub.app.request('/v1/events', { headers });
    const events = sseReader(res.body!);
    await events.next();
    await strangerAgent.send('POST', '/v1/intents', ACTION(1));
    const mine = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    // The stranger's intent produced no event here: the next one is ours.
    expect((await events.next()).data).toEqual({ intents: [mine] });
    await events.cancel();

    const replay = await hub.app.request('/v1/events', { headers });
    expect((await replay.json()).error.code).toBe('auth_replayed');
    expect((await (await hub.app.request('/v1/events')).json()).error.code).toBe('auth_missing');
    const asAgent = await hub.app.request('/v1/events', { headers: hub.signedHeaders(agent, 'GET', '/v1/events') });
    expect((await asAgent.json()).error.code).toBe('forbidden');
  });

  it('sends a ping comment after 15 s of silence', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    // Faked before the stream starts, so the stream's wait uses the fake clock.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const res = await hub.app.request('/v1/events', { headers: hub.signedHeaders(device, 'GET', '/v1/events') });
    const events = sseReader(res.body!);
    try {
      await events.next();
      const ping = events.next();
      await vi.advanceTimersByTimeAsync(EVENTS_PING_MS);
      expect(await ping).toEqual({ comment: 'ping' });
    } finally {
      vi.useRealTimers();
      await events.cancel();
    }
  });
});
