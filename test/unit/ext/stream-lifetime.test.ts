// @vitest-environment node
// Issue 13 item 5/12: the hub ends every event stream after a bounded lifetime (15 minutes; shortened here through the
// app's option, not by sleeping), and the extension's subscription reconnects with a freshly signed request and
// still receives the next event. Real hub, real HubService, real agent SDK; only the lifetime is shorter.
import { afterEach, describe, expect, it } from 'vitest';
import { realHubService } from './real-hub-service';

const LIFETIME_MS = 300;

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => stop?.());

describe('event stream lifetime', () => {
  it('the hub ends a stream after its lifetime; the extension reconnects and still gets the next request', async () => {
    const opened: number[] = [];
    const ended: number[] = [];
    const text: string[] = [];
    const t = await realHubService([], {
      hub: { eventStreamLifetimeMs: LIFETIME_MS },
      realTime: true,
      // Count the streams the extension opens and see when each one ends (the hub closing it).
      serviceFetch: (hub) => async (url, init) => {
        const res = await hub.app.request(url, init);
        if (!new URL(url).pathname.endsWith('/v1/events') || !res.body) return res;
        const n = opened.push(Date.now());
        const [mine, theirs] = res.body.tee();
        void (async () => {
          const reader = mine.getReader();
          const decoder = new TextDecoder();
          text[n - 1] = '';
          for (let r = await reader.read(); !r.done; r = await reader.read())
            text[n - 1] += decoder.decode(r.value, { stream: true });
          ended[n - 1] = Date.now();
        })();
        return new Response(theirs, { status: res.status, headers: res.headers });
      },
    });
    stop = () => t.svc.stop(true);
    const { agent } = await t.claimAgent('lifetime-bot', ['action:action.approve']);
    await t.svc.ensureRunning();
    await until('the first stream', async () => opened.length >= 1 && (await t.svc.state()).connection === 'stream');

    // The first stream ends by itself after the lifetime (nobody aborted it), and a new one is opened.
    await until('the hub to end the first stream', () => ended[0] !== undefined);
    expect(ended[0]! - opened[0]!).toBeGreaterThanOrEqual(LIFETIME_MS - 50);
    await until('a reconnect', async () => opened.length >= 2 && (await t.svc.state()).connection === 'stream');

    // The next event arrives over the new stream.
    const intent = await agent.createIntent({
      kind: 'action.approve',
      payload: { summary: 'after the reconnect', risk: 'low' },
    });
    await until('the request on the reconnected stream', async () =>
      (await t.svc.state()).pending.some((p) => p.intent.intent_id === intent.intent_id),
    );
    // ...and it came over an event stream opened after the first one ended (not only through the fallback poll).
    await until('the event on a later stream', () => text.slice(1).some((s) => s.includes(intent.intent_id)));
    expect(text[0]).not.toContain(intent.intent_id);
  }, 20_000);
});
