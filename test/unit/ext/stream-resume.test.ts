// @vitest-environment node
// Issue 16: the hub sends a snapshot once and then only diffs; when a stream ends (its lifetime here, shortened
// through the app's option), the extension reconnects with Last-Event-ID and the hub answers with what changed since,
// not the whole list again. Real hub, real HubService, real agent SDK.
import { afterEach, describe, expect, it } from 'vitest';
import { PendingMirror } from '../../../lib/hub-client/pending-mirror';
import { realHubService } from './real-hub-service';

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => stop?.());

describe('event stream resume (issue 16)', () => {
  it('reconnects with Last-Event-ID and gets the changes since, not a second snapshot', async () => {
    const streams: { lastEventId: string | null; text: string }[] = [];
    const t = await realHubService([], {
      hub: { eventStreamLifetimeMs: 400 },
      realTime: true,
      serviceFetch: (hub) => async (url, init) => {
        const res = await hub.app.request(url, init);
        if (!new URL(url).pathname.endsWith('/v1/events') || !res.body) return res;
        const headers = new Headers(init.headers);
        const stream = { lastEventId: headers.get('last-event-id'), text: '' };
        streams.push(stream);
        const [mine, theirs] = res.body.tee();
        void (async () => {
          const reader = mine.getReader();
          const decoder = new TextDecoder();
          for (let r = await reader.read(); !r.done; r = await reader.read())
            stream.text += decoder.decode(r.value, { stream: true });
        })();
        return new Response(theirs, { status: res.status, headers: res.headers });
      },
    });
    stop = () => t.svc.stop(true);
    const { agent } = await t.claimAgent('resume-bot', ['action:action.approve']);
    const first = await agent.createIntent({ kind: 'action.approve', payload: { summary: 'one', risk: 'low' } });
    await t.svc.ensureRunning();
    // The first stream starts with a snapshot (the service may have opened it before the request existed: then
    // the request came as a change).
    await until('the first request', () => streams[0]?.text.includes(first.intent_id) === true);
    expect(streams[0]!.lastEventId).toBeNull();
    expect(streams[0]!.text).toMatch(/^event: intents\n/);

    // The first stream ends after its lifetime; the next one resumes from the last id it carried.
    await until('a reconnect', () => streams.length >= 2);
    const lastId = [...streams[0]!.text.matchAll(/\nid: ([0-9]+)\n/g)].at(-1)![1];
    expect(streams[1]!.lastEventId).toBe(lastId);

    const second = await agent.createIntent({ kind: 'action.approve', payload: { summary: 'two', risk: 'low' } });
    await until('the new request in the list', async () =>
      (await t.svc.state()).pending.some((p) => p.intent.intent_id === second.intent_id),
    );
    // Both shown; the resumed stream carried only the change, never the first intent again.
    expect((await t.svc.state()).pending.map((p) => p.intent.intent_id).sort()).toEqual(
      [first.intent_id, second.intent_id].sort(),
    );
    await until('the change on a resumed stream', () =>
      streams.slice(1).some((s) => s.text.includes(second.intent_id)),
    );
    for (const s of streams.slice(1)) {
      expect(s.text).not.toMatch(/^event: intents\n/m);
      expect(s.text).not.toContain(first.intent_id);
    }
  }, 20_000);
});

describe('PendingMirror', () => {
  const intent = (id: string) => ({
    intent_id: id,
    agent_id: 'agt_a',
    installation_id: 'ins_a',
    kind: 'action.approve',
    payload: { summary: id, risk: 'low' },
    payload_hash: 'a'.repeat(64),
    status: 'pending',
    risk: 'low',
    created_at: 1,
    expires_at: 2,
  });
  const ev = (event: string, data: unknown, id = '') => ({ event, data: JSON.stringify(data), id });

  it('assembles a paged snapshot, applies diffs, resumes only from complete states', () => {
    const m = new PendingMirror();
    expect(m.apply(ev('intents', { intents: [intent('int_a')], more: true }, '5-0'))).toBeNull();
    expect(m.resumeId).toBeNull();
    expect(
      m.apply(ev('intents-more', { intents: [intent('int_b')], more: false }, '5'))!.map((i) => i.intent_id),
    ).toEqual(['int_a', 'int_b']);
    expect(m.resumeId).toBe('5');
    const after = m.apply(
      ev(
        'changes',
        { added: ['int_c'], updated: [], removed: ['int_a', 'int_unknown'], intents: [intent('int_c')] },
        '9',
      ),
    );
    expect(after!.map((i) => i.intent_id)).toEqual(['int_b', 'int_c']);
    expect(m.resumeId).toBe('9');
    // A snapshot cut off mid-way is dropped; the copy and its resume id stay.
    m.apply(ev('intents', { intents: [], more: true }, '12-0'));
    m.disconnected();
    expect(m.intents.map((i) => i.intent_id)).toEqual(['int_b', 'int_c']);
    expect(m.resumeId).toBe('9');
    // Out of order or malformed: refused.
    expect(() => m.apply(ev('intents-more', { intents: [], more: false }, '13'))).toThrow(/out of order/);
    expect(() => m.apply({ event: 'changes', data: '{"added":1}', id: '14' })).toThrow(/malformed/);
  });
});
