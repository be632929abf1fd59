// @vitest-environment node
// Issue 13 items 5 and 12: one signed request must not buy a device an event stream forever. A stolen device (or
// whoever captured one of its requests) holding GET /v1/events keeps receiving every pending intent's payload; the
// hub ends each stream after EVENTS_MAX_LIFETIME_MS so authority is proven again by a freshly signed request, and a
// replay of the old request cannot reopen it. This runs the real default lifetime (15 minutes) on faked timers
// (setTimeout only: the stream's ping and lifetime); nothing sleeps. The honest extension's reconnect after the
// hub ends a stream is test/unit/ext/stream-lifetime.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENTS_MAX_LIFETIME_MS, EVENTS_PING_MS } from '../../../hub/routes/events';
import { hubFixture } from '../hub/flow';

type Hub = Awaited<ReturnType<typeof hubFixture>>;

const ACTION = (n: number) => ({
  kind: 'action.approve',
  payload: { summary: `Plan ${n}`, risk: 'low' },
  idempotency_key: `act-${n}`,
  agent_nonce: `nonce-${n}`.padEnd(22, 'A'),
});

/** Moves the hub's clock and the faked timers together, in steps, so pings and waits fire in order. */
async function advance(hub: Hub, ms: number, step = 5_000): Promise<void> {
  for (let left = ms; left > 0; left -= step) {
    const s = Math.min(step, left);
    hub.clock.now += s;
    await vi.advanceTimersByTimeAsync(s);
  }
}

/** Reads a response body in the background: everything it delivered so far, and whether it ended. */
function drain(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const seen = { text: '', ended: false };
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return void (seen.ended = true);
      seen.text += decoder.decode(value, { stream: true });
    }
  })().catch(() => void (seen.ended = true));
  return { seen, cancel: () => reader.cancel().catch(() => {}) };
}

afterEach(() => void vi.useRealTimers());

describe('an event stream has a bounded lifetime', () => {
  it('a device holding one stream open is cut off at the lifetime, and replaying the request that opened it is refused', async () => {
    const hub = await hubFixture();
    const owner = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(owner);
    await agent.send('POST', '/v1/intents', ACTION(1));
    // Faked before the stream starts, so its ping and lifetime timers use the fake clock.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const headers = hub.signedHeaders(owner, 'GET', '/v1/events');
    const res = await hub.app.request('/v1/events', { headers });
    expect(res.status).toBe(200);
    const stream = drain(res.body!);
    try {
      await vi.advanceTimersByTimeAsync(0);
      expect(stream.seen.text).toContain('Plan 1');

      // Kept alive (pings) and still delivering until just before the lifetime...
      await advance(hub, EVENTS_MAX_LIFETIME_MS - EVENTS_PING_MS);
      await agent.send('POST', '/v1/intents', ACTION(2));
      await vi.advanceTimersByTimeAsync(0);
      expect(stream.seen.ended).toBe(false);
      expect(stream.seen.text).toContain(': ping');
      expect(stream.seen.text).toContain('Plan 2');

      // ...and ended by the hub once it is reached, whatever the client wants.
      await advance(hub, EVENTS_PING_MS);
      expect(stream.seen.ended).toBe(true);
      await agent.send('POST', '/v1/intents', ACTION(3));
      await vi.advanceTimersByTimeAsync(0);
      expect(stream.seen.text).not.toContain('Plan 3');

      // The captured request that opened it cannot open another: its timestamp is long out of the window and its
      // nonce was spent. Only the key's holder, signing afresh, gets a stream.
      const replay = await hub.app.request('/v1/events', { headers });
      expect(replay.status).toBe(401);
      await replay.body?.cancel();
    } finally {
      await stream.cancel();
    }
  });
});
