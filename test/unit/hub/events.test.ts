// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';
import { IntentEvents, intentEvents } from '../../../hub/events';
import { EVENTS_PING_MS } from '../../../hub/routes/events';
import { INTENT_TTL_MS } from '../../../hub/routes/intent-view';
import { MAX_RESUME_GAP } from '../../../hub/routes/intent-changes';
import { SNAPSHOT_PAGE } from '../../../lib/protocol/intent-events-wire';
import { newWatchToken, watchTokenHash } from '../../../lib/protocol/watch-wire';
import { hubFixture } from './flow';
import { key } from './helpers';

const ACTION = (n: number) => ({
  kind: 'action.approve',
  payload: { summary: `Step ${n}`, risk: 'low' },
  idempotency_key: `act-${n}`,
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
});

interface Sse {
  event?: string;
  id?: string;
  data?: any;
  comment?: string;
  /** Characters of the whole event block, as sent. */
  size: number;
}

/** Reads server-sent events from a response body, one parsed `{event, id, data}` (or `{comment}`) at a time. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(): Promise<Sse> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) return { comment: block.slice(1).trim(), size: block.length };
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          return { event, id, data: JSON.parse(data), size: block.length };
        }
        const { done, value } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

type Hub = Awaited<ReturnType<typeof hubFixture>>;

async function open(hub: Hub, device: { keyId: string } & Parameters<Hub['signedHeaders']>[0], lastEventId?: string) {
  const headers: Record<string, string> = hub.signedHeaders(device, 'GET', '/v1/events');
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const res = await hub.app.request('/v1/events', { headers });
  expect(res.status).toBe(200);
  return { res, events: sseReader(res.body!) };
}

/** `n` pending intents of `installationId` written straight into the store (the route's budget allows 20 a go). */
async function manyPending(hub: Hub, installationId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await hub.store.intents.create({
      intentId: `int_bulk${String(i).padStart(5, '0')}`,
      installationId,
      kind: 'action.approve',
      payload: JSON.stringify({ summary: `Bulk ${i}`, risk: 'low' }),
      payloadHash: key(7),
      idempotencyKey: `bulk-${i}`,
      risk: 'low',
      createdAt: hub.clock.now + i,
      expiresAt: hub.clock.now + INTENT_TTL_MS,
      agentNonce: 'AAECAwQFBgcICQoLDA0ODw',
    });
}

describe('GET /v1/events', () => {
  it('sends a snapshot, then only what changed: created, decided, revoked (issue 16)', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    const { res, events } = await open(hub, device);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    // For reverse proxies: no buffering, no caching.
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-store');
    const snapshot = await events.next();
    expect(snapshot).toMatchObject({ event: 'intents', data: { intents: [], more: false } });
    expect(snapshot.id).toMatch(/^[0-9]+$/);

    const created = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const added = await events.next();
    expect(added).toMatchObject({
      event: 'changes',
      data: { added: [created.intent_id], updated: [], removed: [], intents: [created] },
    });
    expect(Number(added.id)).toBeGreaterThan(Number(snapshot.id));

    await device.send('POST', `/v1/intents/${created.intent_id}/decision`, {
      approval: hub.approvalFor(device, created, 'deny'),
    });
    expect((await events.next()).data).toEqual({ added: [], updated: [], removed: [created.intent_id], intents: [] });

    const second = (await agent.send('POST', '/v1/intents', ACTION(2))).json;
    expect((await events.next()).data.added).toEqual([second.intent_id]);
    await device.send('DELETE', `/v1/installations/${agent.installationId}`, hub.revocationFor(device, agent));
    expect((await events.next()).data).toMatchObject({ added: [], removed: [second.intent_id] });

    await events.cancel();
    // Closing the stream unsubscribes it.
    await new Promise((r) => setTimeout(r, 10));
    expect(intentEvents(hub.store).subscriberCount(device.keyId)).toBe(0);
  });

  it('with many pending, the snapshot comes in bounded pages and a new intent sends one intent, not the list', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    await manyPending(hub, agent.installationId, 2 * SNAPSHOT_PAGE + 10);
    const { events } = await open(hub, device);
    const pages = [await events.next(), await events.next(), await events.next()];
    expect(pages.map((p) => [p.event, p.data.intents.length, p.data.more])).toEqual([
      ['intents', SNAPSHOT_PAGE, true],
      ['intents-more', SNAPSHOT_PAGE, true],
      ['intents-more', 10, false],
    ]);
    // Oldest first, each intent once.
    const ids = pages.flatMap((p) => p.data.intents.map((i: { intent_id: string }) => i.intent_id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe('int_bulk00000');
    // Only the last page carries a resumable id; the ones before are `<position>-<page>`.
    expect(pages.map((p) => p.id)).toEqual([`${pages[2]!.id}-0`, `${pages[2]!.id}-1`, pages[2]!.id]);

    const created = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const change = await events.next();
    expect(change.data.intents).toEqual([created]);
    // The old stream re-sent all 211 intents here (about 100 KB); the diff is one intent.
    expect(change.size).toBeLessThan(2_000);
    await events.cancel();
  });

  it('resumes with Last-Event-ID: the changes since, else (unknown, mid-snapshot or too old) a fresh snapshot', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    const kept = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const denied = (await agent.send('POST', '/v1/intents', ACTION(2))).json;
    const first = await open(hub, device);
    const snapshot = await first.events.next();
    expect(snapshot.data.intents.map((i: { intent_id: string }) => i.intent_id).sort()).toEqual(
      [kept.intent_id, denied.intent_id].sort(),
    );
    await first.events.cancel();

    // While disconnected: one decided, one created.
    await device.send('POST', `/v1/intents/${denied.intent_id}/decision`, {
      approval: hub.approvalFor(device, denied, 'deny'),
    });
    const created = (await agent.send('POST', '/v1/intents', ACTION(3))).json;
    const resumed = await open(hub, device, snapshot.id);
    const since = await resumed.events.next();
    expect(since).toMatchObject({
      event: 'changes',
      data: { added: [created.intent_id], removed: [denied.intent_id], intents: [created] },
    });
    await resumed.events.cancel();

    // Nothing happened since the last id: nothing is sent until something does.
    const quiet = await open(hub, device, since.id);
    const next = quiet.events.next();
    const later = (await agent.send('POST', '/v1/intents', ACTION(4))).json;
    expect((await next).data).toMatchObject({ added: [later.intent_id], removed: [] });
    await quiet.events.cancel();

    for (const id of ['not-a-number', `${since.id}-0`, String(Number(since.id) + 1_000_000)]) {
      const fresh = await open(hub, device, id);
      expect((await fresh.events.next()).event).toBe('intents');
      await fresh.events.cancel();
    }
    // Too far behind the audit log: a snapshot, not a long catch-up.
    const head = (await hub.store.audit.head())!;
    await hub.store.transaction(async () => {
      await hub.store.audit.insert({ ...head, seq: head.seq + MAX_RESUME_GAP + 1 });
    });
    const old = await open(hub, device, since.id);
    expect((await old.events.next()).event).toBe('intents');
    await old.events.cancel();
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
    expect((await events.next()).data.intents).toEqual([mine]);
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
      expect(await ping).toMatchObject({ comment: 'ping' });
    } finally {
      vi.useRealTimers();
      await events.cancel();
    }
  });
});

describe('GET /v1/intents?status=pending', () => {
  it('is paginated: limit (default 100, at most 500) and next_cursor, oldest first, each intent once', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    await manyPending(hub, agent.installationId, 120);
    const first = await device.send('GET', '/v1/intents?status=pending');
    expect(first.json.intents).toHaveLength(100);
    expect(typeof first.json.next_cursor).toBe('string');
    const rest = await device.send(
      'GET',
      `/v1/intents?status=pending&cursor=${encodeURIComponent(first.json.next_cursor)}`,
    );
    expect(rest.json.intents).toHaveLength(20);
    expect(rest.json.next_cursor).toBeUndefined();
    const ids = [...first.json.intents, ...rest.json.intents].map((i: { intent_id: string }) => i.intent_id);
    expect(new Set(ids).size).toBe(120);

    const small = await device.send('GET', '/v1/intents?status=pending&limit=7');
    expect(small.json.intents.map((i: { intent_id: string }) => i.intent_id)).toEqual(ids.slice(0, 7));
    for (const bad of ['limit=0', 'limit=501', 'limit=x', 'cursor=nope', 'other=1', 'limit=5&limit=6']) {
      const res = await device.send('GET', `/v1/intents?status=pending&${bad}`);
      expect([bad, res.status, res.json.error.code]).toEqual([bad, 400, 'protocol_invalid']);
    }
    expect((await device.send('GET', '/v1/intents?status=pending&limit=500')).json.intents).toHaveLength(120);
  });
});

describe('GET /v1/watch/events', () => {
  it('sends the ids snapshot, then only ids added and removed; resumes with Last-Event-ID (issue 16)', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    const token = newWatchToken();
    expect((await device.send('PUT', '/v1/watch', { token_sha256: watchTokenHash(token) })).status).toBe(200);
    const waiting = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    const watch = async (lastEventId?: string) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (lastEventId) headers['last-event-id'] = lastEventId;
      const res = await hub.app.request('/v1/watch/events', { headers });
      expect(res.headers.get('x-accel-buffering')).toBe('no');
      return sseReader(res.body!);
    };
    const events = await watch();
    const snapshot = await events.next();
    expect(snapshot).toMatchObject({ event: 'watch', data: { pending: 1, intent_ids: [waiting.intent_id] } });
    const created = (await agent.send('POST', '/v1/intents', ACTION(2))).json;
    const added = await events.next();
    expect(added).toMatchObject({ event: 'watch-changes', data: { added: [created.intent_id], removed: [] } });
    await events.cancel();

    await device.send('POST', `/v1/intents/${waiting.intent_id}/decision`, {
      approval: hub.approvalFor(device, waiting, 'deny'),
    });
    const resumed = await watch(added.id);
    expect(await resumed.next()).toMatchObject({
      event: 'watch-changes',
      data: { added: [], removed: [waiting.intent_id] },
    });
    await resumed.cancel();
  });
});

describe('IntentEvents', () => {
  it('wakes a held poll only for its own intent, every stream of the account for any; notices are plain JSON', () => {
    const bus = new IntentEvents();
    const heard: string[] = [];
    bus.subscribe('acct', (e) => heard.push(`stream:${e}`));
    bus.subscribe('acct', (e) => heard.push(`poll-a:${e}`), { kind: 'poll', key: 'agent:x' }, 'int_a');
    bus.subscribe('other', (e) => heard.push(`other:${e}`));
    const change = { accountId: 'acct', intentIds: ['int_b'] };
    // What a relay between hub processes would carry: it survives JSON unchanged.
    bus.publish(JSON.parse(JSON.stringify(change)) as typeof change);
    expect(heard).toEqual(['stream:changed']);
    bus.publish({ accountId: 'acct', intentIds: ['int_a'] }, { accountId: 'acct', intentIds: ['int_c'] });
    expect(heard).toEqual(['stream:changed', 'stream:changed', 'poll-a:changed']);
    // No ids: "something in the account" wakes everyone there.
    bus.publish({ accountId: 'acct', intentIds: [] });
    expect(heard.slice(3)).toEqual(['stream:changed', 'poll-a:changed']);
    // Notices possibly lost (a cross-process relay reconnected): everyone re-reads.
    heard.length = 0;
    bus.resync();
    expect(heard.sort()).toEqual(['other:changed', 'poll-a:changed', 'stream:changed']);
    bus.closeHolder('agent:x');
    expect(heard.at(-1)).toBe('poll-a:closing');
  });
});
