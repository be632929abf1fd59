// @vitest-environment node
// Issue 16 (load): new intents wait their turn, in order, and a full queue is refused `hub_busy` with Retry-After
// before anything is stored; decisions never wait behind them; the SDK waits out `hub_busy` and its create lands once.
import { describe, expect, it } from 'vitest';
import { AgentClient, BUSY_RETRIES } from '../../../lib/agent';
import { fromBase64UrlFixed } from '../../../lib/protocol/base64url';
import { HubError } from '../../../hub/errors';
import { BUSY_RETRY_AFTER_SECONDS, IntentAdmission } from '../../../hub/intent-admission';
import { openSqliteStore } from '../../../hub/store/sqlite';
import type { HubStore } from '../../../hub/store/port';
import { ACTION, hubFixture, ORIGIN } from './flow';

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A promise and its resolver, to hold work at a chosen point. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe('IntentAdmission', () => {
  it('runs at most `concurrency` at once and admits waiters in arrival order', async () => {
    const admission = new IntentAdmission({ concurrency: 2, maxQueued: 10, maxWaitMs: 60_000 });
    const started: number[] = [];
    const holds = Array.from({ length: 5 }, gate);
    const runs = holds.map((h, i) =>
      admission.run(async () => {
        started.push(i);
        await h.opened;
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect(admission.load).toEqual({ running: 2, queued: 3 });
    holds[1]!.open();
    await tick();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    holds[0]!.open();
    await tick();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const h of holds) h.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(admission.load).toEqual({ running: 0, queued: 0 });
  });

  it('refuses hub_busy with Retry-After when the queue is full or the wait runs out; a throw frees the turn', async () => {
    const admission = new IntentAdmission({ concurrency: 1, maxQueued: 1, maxWaitMs: 30 });
    const hold = gate();
    const first = admission.run(() => hold.opened);
    const second = admission.run(async () => 'second');
    const third = await admission.run(async () => 'third').catch((e: unknown) => e);
    expect(third).toBeInstanceOf(HubError);
    expect(third).toMatchObject({ code: 'hub_busy', status: 503 });
    expect((third as HubError).headers['Retry-After']).toBe(String(BUSY_RETRY_AFTER_SECONDS));
    // The second waited longer than maxWaitMs: refused too, and it left the queue.
    expect(await second.catch((e: unknown) => (e as HubError).code)).toBe('hub_busy');
    expect(admission.load).toEqual({ running: 1, queued: 0 });
    hold.open();
    await first;
    await expect(admission.run(async () => Promise.reject(new Error('route failed')))).rejects.toThrow('route failed');
    expect(admission.load).toEqual({ running: 0, queued: 0 });
    expect(await admission.run(async () => 'after')).toBe('after');
  });
});

/**
 * A real SQLite store whose next transactions can be held before they begin (so a held creation keeps its turn
 * without holding the store, exactly like a creation waiting for PostgreSQL's transaction lock).
 */
function holdableStore() {
  const store = openSqliteStore({ file: ':memory:' });
  const real = store.transaction.bind(store);
  const held: { opened: Promise<void> }[] = [];
  (store as { transaction: HubStore['transaction'] }).transaction = async (fn, options) => {
    const h = held.shift();
    if (h) await h.opened;
    return await real(fn, options);
  };
  return {
    store,
    holdNext: () => {
      const g = gate();
      held.push(g);
      return g;
    },
  };
}

describe('POST /v1/intents admission on the real hub', () => {
  it('a full queue answers 503 hub_busy with Retry-After and stores nothing; a decision passes the waiting creations', async () => {
    const { store, holdNext } = holdableStore();
    const hub = await hubFixture(undefined, {
      store,
      intentAdmission: { concurrency: 1, maxQueued: 1, maxWaitMs: 60_000 },
    });
    const device = await hub.enrolledDevice();
    const [a, b, c] = [await hub.claimedAgent(device), await hub.claimedAgent(device), await hub.claimedAgent(device)];
    const pending = (await a.send('POST', '/v1/intents', ACTION(0))).json;
    expect(pending.status).toBe('pending');

    const held = holdNext();
    const running = a.send('POST', '/v1/intents', ACTION(1)); // has the turn, held before its transaction
    await tick();
    const waiting = b.send('POST', '/v1/intents', ACTION(2)); // waits for the turn
    await tick();
    const refused = await c.send('POST', '/v1/intents', ACTION(3)); // the queue is full
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe('hub_busy');
    expect(refused.headers.get('retry-after')).toBe(String(BUSY_RETRY_AFTER_SECONDS));
    expect(await store.intents.getByIdempotencyKey(c.installationId, ACTION(3).idempotency_key)).toBeNull();

    // Work in progress does not queue behind new work: the human's decision goes through now.
    const decided = await device.send('POST', `/v1/intents/${pending.intent_id}/decision`, {
      approval: hub.approvalFor(device, pending),
    });
    expect(decided.status).toBe(200);
    expect(decided.json.status).toBe('approved');

    held.open();
    expect((await running).status).toBe(201);
    expect((await waiting).status).toBe(201);
    // Sent again as it was (a fresh signature, same idempotency key), it is stored once.
    expect((await c.send('POST', '/v1/intents', ACTION(3))).status).toBe(201);
  });

  it('the SDK waits out hub_busy (Retry-After plus a spread under a second) and its intent is created once', async () => {
    const { store, holdNext } = holdableStore();
    const hub = await hubFixture(undefined, {
      store,
      intentAdmission: { concurrency: 1, maxQueued: 0, maxWaitMs: 60_000 },
    });
    const device = await hub.enrolledDevice();
    const other = await hub.claimedAgent(device);
    const sleeps: number[] = [];
    let blocker: ReturnType<typeof holdNext> | undefined;
    let blocked: Promise<unknown> | undefined;
    const client = new AgentClient({
      fetch: async (url, init) => await hub.app.request(url, init),
      now: () => hub.clock.now,
      // While the agent sleeps, the creation that holds the turn finishes; the retry then gets it.
      sleep: async (ms) => {
        sleeps.push(ms);
        hub.clock.now += ms;
        if (sleeps.length === 2) {
          blocker!.open();
          await blocked;
        }
      },
    });
    const reg = await client.register({
      hub: ORIGIN,
      name: 'busy-bot',
      manifest: { markdown: '# busy-bot' },
      requestedScopes: ['action:action.approve'],
    });
    const claim = hub.claimFor(
      device,
      {
        agentId: reg.agent_id,
        claimCode: reg.claim_code,
        signingKey: fromBase64UrlFixed(client.publicKeys.signing_key, 32, 'k'),
        boxKey: fromBase64UrlFixed(client.publicKeys.box_key, 32, 'k'),
      } as unknown as Parameters<typeof hub.claimFor>[1],
      { granted_scopes: ['action:action.approve'] },
    );
    expect((await device.send('POST', '/v1/claims', { claim })).status).toBe(201);
    await client.status();

    blocker = holdNext();
    blocked = other.send('POST', '/v1/intents', ACTION(1));
    await tick();
    const intent = await client.createIntent({ kind: 'action.approve', payload: { summary: 'x', risk: 'low' } });
    expect(intent.status).toBe('pending');
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) {
      expect(ms).toBeGreaterThanOrEqual(BUSY_RETRY_AFTER_SECONDS * 1000);
      expect(ms).toBeLessThan(BUSY_RETRY_AFTER_SECONDS * 1000 + 1000);
    }
    expect((await store.intents.countCreatedSince(intent.installation_id, 0)).count).toBe(1);
    expect(BUSY_RETRIES).toBeGreaterThanOrEqual(2);
  });
});
