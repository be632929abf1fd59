// @vitest-environment node
// Issue 16, "Holds under load and abuse", the SDK's half: what a busy hub does to an agent (a long poll answered
// early, 429 with Retry-After, a request that waited past the ±60 s window, an execute answer lost on the way) must
// cost the agent a bounded retry, not the approval. Each test plays that failure against the real in-process hub.
import { describe, expect, it } from 'vitest';
import { AgentClient, MAX_RETRY_AFTER_S, type FetchLike } from '../../../lib/agent';
import { utf8Decode, utf8Encode } from '../../../lib/bytes';
import { signApproval } from '../../../lib/protocol/approval';
import { fromBase64UrlFixed, toBase64Url } from '../../../lib/protocol/base64url';
import { sealSecret } from '../../../lib/protocol/sealed-secret';
import type { Intent } from '../../../lib/protocol/wire';
import { intentEvents } from '../../../hub/events';
import type { RateLimit } from '../../../hub/rate-limit';
import { hubFixture, ORIGIN } from '../hub/flow';

type Hub = Awaited<ReturnType<typeof hubFixture>>;

/** Bounded wait for a condition the hub reaches asynchronously (no timing is asserted). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}

/** A hub, its human's device and an agent registered and claimed through the SDK, talking through `fetch`. */
async function setUp(
  options: { signedRequestLimit?: RateLimit; wrap?: (hub: Hub, inner: FetchLike) => FetchLike } = {},
) {
  const hub = await hubFixture(undefined, { signedRequestLimit: options.signedRequestLimit });
  const device = await hub.enrolledDevice();
  const inner: FetchLike = async (url, init) => await hub.app.request(url, init);
  const sleeps: number[] = [];
  const client = new AgentClient({
    fetch: options.wrap ? options.wrap(hub, inner) : inner,
    now: () => hub.clock.now,
    // Sleeping moves the hub's clock: rate limits refill, nothing real waits.
    sleep: async (ms) => {
      sleeps.push(ms);
      hub.clock.now += ms;
    },
  });
  const reg = await client.register({
    hub: ORIGIN,
    name: 'load-bot',
    manifest: { markdown: '# load-bot' },
    requestedScopes: ['secret:read:arxiv-key', 'action:action.approve'],
  });
  const claim = hub.claimFor(
    device,
    {
      agentId: reg.agent_id,
      claimCode: reg.claim_code,
      signingKey: fromBase64UrlFixed(client.publicKeys.signing_key, 32, 'k'),
      boxKey: fromBase64UrlFixed(client.publicKeys.box_key, 32, 'k'),
    } as unknown as Parameters<Hub['claimFor']>[1],
    { granted_scopes: ['action:action.approve', 'secret:read:arxiv-key'] },
  );
  expect((await device.send('POST', '/v1/claims', { claim })).status).toBe(201);
  await client.status();
  return { hub, device, client, sleeps, agentId: reg.agent_id };
}

async function approve(
  hub: Hub,
  device: Awaited<ReturnType<Hub['enrolledDevice']>>,
  intent: Intent,
  secret?: Uint8Array,
) {
  const approval = signApproval(device.privateKey, {
    hub: ORIGIN,
    intent_id: intent.intent_id,
    payload_hash: intent.payload_hash,
    decision: 'approve',
    installation_id: intent.installation_id,
    agent_nonce: intent.agent_nonce!,
    time: hub.clock.now,
  });
  const body: Record<string, unknown> = { approval };
  if (secret) body.sealed_secret = toBase64Url(secret);
  expect((await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, body)).status).toBe(200);
}

const ACTION = { kind: 'action.approve', payload: { summary: 'Archive 3 old papers', risk: 'low' } };

describe('AgentClient under load (issue 16)', () => {
  it('asks again at once when a long poll is answered early with "pending", instead of pausing', async () => {
    let polls = 0;
    const { hub, device, client, sleeps, agentId } = await setUp({
      // The first held poll is ended early by the hub (as a poll evicted by a newer one, or an older hub woken by
      // another intent of the account, is): the hub answers the current state, still pending.
      wrap: (hub, inner) => async (url, init) => {
        if (!url.includes('?wait=')) return await inner(url, init);
        if (++polls > 1) return await inner(url, init);
        const ended = new AbortController();
        const answer = hub.app.request(url, { ...init, signal: ended.signal });
        await until(() => intentEvents(hub.store).heldCount(`agent:${agentId}`, 'poll') === 1);
        ended.abort();
        return await answer;
      },
    });
    const intent = await client.createIntent(ACTION);
    const seen: string[] = [];
    const waiting = client.waitForDecision(intent.intent_id, { onPending: (i) => seen.push(i.status) });
    // The second poll is held: the approval reaches it directly.
    await until(() => polls === 2 && intentEvents(hub.store).heldCount(`agent:${agentId}`, 'poll') === 1);
    await approve(hub, device, intent);
    expect((await waiting).decision).toBe('approved');
    expect(seen).toEqual(['pending']);
    expect(sleeps).toEqual([]);
  });

  it('honours Retry-After on 429 (bounded), and passes a wait longer than it is willing to sleep through', async () => {
    // 5 signed requests per minute for this agent's key: the hub answers 429 with Retry-After: 12.
    const { client, sleeps } = await setUp({ signedRequestLimit: { burst: 5, sustained: 5, perSeconds: 60 } });
    for (let i = 0; i < 8; i++)
      expect((await client.createIntent({ ...ACTION, idempotencyKey: `k-${i}` })).status).toBe('pending');
    expect(sleeps.length).toBeGreaterThan(0);
    expect(sleeps.every((ms) => ms === 12_000)).toBe(true);

    // A budget that refills over an hour: a Retry-After of many minutes is more than the SDK sleeps through; it
    // throws at once, with the hub's Retry-After for the caller.
    const slow = await setUp({ signedRequestLimit: { burst: 3, sustained: 5, perSeconds: 3600 } });
    let err: any;
    for (let i = 0; i < 8 && !err; i++)
      err = await slow.client.createIntent({ ...ACTION, idempotencyKey: `k-${i}` }).then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ code: 'rate_limited' });
    expect(err.retryAfterSeconds).toBeGreaterThan(MAX_RETRY_AFTER_S);
    expect(slow.sleeps).toEqual([]);
  });

  it('signs again with a fresh timestamp and nonce after auth_stale, a bounded number of times', async () => {
    let delays = 1;
    const { hub, client } = await setUp({
      // The request sits in a full listen queue for 61 s before the hub reads it: its signature is stale on arrival.
      wrap: (hub, inner) => async (url, init) => {
        if (init.method === 'POST' && new URL(url).pathname === '/v1/intents' && delays > 0) {
          delays--;
          hub.clock.now += 61_000;
        }
        return await inner(url, init);
      },
    });
    const created = await client.createIntent(ACTION);
    expect(created.status).toBe('pending');
    expect(await hub.store.intents.get(created.intent_id)).not.toBeNull();

    // Always stale (the queue never drains): the SDK gives up after its retries, with the hub's code.
    delays = Number.POSITIVE_INFINITY;
    expect((await client.createIntent(ACTION).catch((e) => e)).code).toBe('auth_stale');
  });

  it('recovers a lost execute answer: asks again and gets the same sealed secret, executed once on the hub', async () => {
    let drop = 1;
    const { hub, device, client, sleeps } = await setUp({
      // The hub executes and answers; the connection breaks before the agent reads the answer.
      wrap: (_hub, inner) => async (url, init) => {
        const res = await inner(url, init);
        // What undici throws when the socket closes before the response: TypeError('fetch failed') over the
        // socket error (code UND_ERR_SOCKET).
        if (url.endsWith('/execute') && drop-- > 0)
          throw new TypeError('fetch failed', {
            cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
          });
        return res;
      },
    });
    const intent = await client.createIntent({
      kind: 'secret.request',
      payload: { item: 'arxiv-key', reason: 'download papers' },
    });
    const boxKey = fromBase64UrlFixed(client.publicKeys.box_key, 32, 'box');
    const sealed = sealSecret(boxKey, utf8Encode('ak_live_123'), {
      intent_id: intent.intent_id,
      payload_hash: intent.payload_hash,
      agent_id: intent.agent_id,
    });
    await approve(hub, device, intent, sealed);
    const done = await client.execute(intent.intent_id);
    expect(utf8Decode(done.secret!)).toBe('ak_live_123');
    expect(sleeps).toEqual([1000]);
    expect((await hub.store.intents.get(intent.intent_id))!.executedAt).not.toBeNull();
  });
});
