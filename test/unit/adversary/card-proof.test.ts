// @vitest-environment node
// docs/threat-model.md §1, "A proof made while the card is shown": a decision on a card reuses the proof of the hub's
// identity made after the card was shown (HubService.prepareDecision), at most CARD_PROOF_MAX_MS old, forgotten when
// the connection drops or the hub URL changes. Here the attacker takes the hub's address between that proof and the
// click (a second hub with its own identity key, standing for any program that answers at the URL).
import { describe, expect, it } from 'vitest';
import { approvalBytes, type ApprovalStatement } from '../../../lib/protocol/approval';
import { fromBase64Url } from '../../../lib/protocol/base64url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { CARD_PROOF_MAX_MS } from '../../../lib/ext/hub/hub-identity';
import { hubFixture, ORIGIN } from '../hub/flow';
import { realHubService } from '../ext/real-hub-service';

type Fixture = Awaited<ReturnType<typeof hubFixture>>;

const MISMATCH = /This is not the hub you enrolled with/;

/**
 * The extension's way to the hub URL, which the test can hand to another server. `swap(next, drop)` makes every
 * later request reach `next`; with `drop`, the open streams of the old server end as when it stops (its socket
 * closes). Signed requests the new server receives are listed in `signedToSwapped`.
 */
function switchable() {
  let target: Fixture | null = null;
  let swapped = false;
  const signedToSwapped: { method: string; path: string; body: string }[] = [];
  const open = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const fetchImpl = async (url: string, init?: RequestInit): Promise<Response> => {
    if (swapped && new Headers(init?.headers).has('ck-signature'))
      signedToSwapped.push({
        method: init?.method ?? 'GET',
        path: new URL(url).pathname,
        body: init?.body ? new TextDecoder().decode(init.body as Uint8Array) : '',
      });
    const res = await target!.app.request(url, init);
    if (!res.body) return res;
    const reader = res.body.getReader();
    let mine: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => void open.add((mine = c)),
      pull: async (c) => {
        const { done, value } = await reader.read();
        if (!open.has(c)) return;
        if (done) {
          open.delete(c);
          c.close();
        } else c.enqueue(value);
      },
      cancel: () => {
        open.delete(mine);
        void reader.cancel().catch(() => {});
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
  return {
    fetchImpl,
    signedToSwapped,
    setFirst: (hub: Fixture) => void (target = hub),
    swap: (next: Fixture, drop: boolean) => {
      target = next;
      swapped = true;
      if (drop) for (const c of open) c.error(new TypeError('connection closed'));
      if (drop) open.clear();
    },
  };
}

/** An enrolled extension with one claimed agent that asked for an approval, and its card shown (prepared). */
async function cardShown(realTime = false) {
  const net = switchable();
  const t = await realHubService([], {
    realTime,
    serviceFetch: (hub) => {
      net.setFirst(hub);
      return net.fetchImpl;
    },
  });
  const { agent } = await t.claimAgent('deploy-bot', ['action:action.approve']);
  const intent = await agent.createIntent({
    kind: 'action.approve',
    payload: { summary: 'Deploy build 42', risk: 'low' },
  });
  await t.svc.pollOnce();
  expect((await t.svc.state()).pending.map((p) => p.intent.intent_id)).toEqual([intent.intent_id]);
  await t.svc.prepareDecision(intent.intent_id);
  const squatter = await hubFixture(t.hub.clock.now);
  return { ...t, net, agent, intent, squatter };
}

describe('a hub swapped after the proof made while the card was shown', () => {
  it('the connection dropped (the hub stopped): the click proves again and the squatter gets nothing signed', async () => {
    const t = await cardShown(true);
    await t.svc.ensureRunning();
    for (let i = 0; i < 200 && (await t.svc.state()).connection !== 'stream'; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect((await t.svc.state()).connection).toBe('stream');
    // The card's proof is fresh; now the real hub stops and another server takes its address.
    await t.svc.prepareDecision(t.intent.intent_id);
    t.net.swap(t.squatter, true);
    for (let i = 0; i < 200 && (await t.svc.state()).connection === 'stream'; i++)
      await new Promise((r) => setTimeout(r, 10));
    await expect(t.svc.decide(t.intent.intent_id, t.intent.payload_hash, 'approve')).rejects.toThrow(MISMATCH);
    await t.svc.stop(false);
    expect(t.net.signedToSwapped).toEqual([]);
    expect((await t.agent.getIntent(t.intent.intent_id)).status).toBe('pending');
  });

  it('the proof grew older than CARD_PROOF_MAX_MS: the click proves again and is refused', async () => {
    const t = await cardShown();
    await t.svc.stop(false);
    t.net.swap(t.squatter, false);
    t.hub.clock.now += CARD_PROOF_MAX_MS;
    t.squatter.clock.now = t.hub.clock.now;
    await expect(t.svc.decide(t.intent.intent_id, t.intent.payload_hash, 'approve')).rejects.toThrow(MISMATCH);
    expect(t.net.signedToSwapped).toEqual([]);
  });

  it('the hub URL changed and came back: the proof is forgotten, the click proves again and is refused', async () => {
    const t = await cardShown();
    await t.svc.stop(false);
    const hubUrl = (await t.svc.state()).hubUrl;
    await t.svc.setHubUrl('http://127.0.0.1:8788').catch(() => {});
    t.net.swap(t.squatter, false);
    await t.svc.setHubUrl(hubUrl).catch(() => {});
    await t.svc.stop(false);
    await expect(t.svc.decide(t.intent.intent_id, t.intent.payload_hash, 'approve')).rejects.toThrow();
    expect(t.net.signedToSwapped).toEqual([]);
  });

  it('a person never reuses a proof made before the card was shown (no preparation: the click proves afresh)', async () => {
    const t = await cardShown();
    await t.svc.stop(false);
    // A new request whose card was never shown; the background's proofs of a moment ago are young.
    const other = await t.agent.createIntent({
      kind: 'action.approve',
      payload: { summary: 'Deploy build 43', risk: 'low' },
    });
    await t.svc.pollOnce();
    t.net.swap(t.squatter, false);
    await expect(t.svc.decide(other.intent_id, other.payload_hash, 'approve')).rejects.toThrow(MISMATCH);
    expect(t.net.signedToSwapped).toEqual([]);
  });

  it('inside the window, with no drop: the squatter gets only the device-signed decision on exactly the card shown', async () => {
    const t = await cardShown();
    await t.svc.stop(false);
    t.net.swap(t.squatter, false);
    // The squatter does not know the intent: it answers with an error, and the person sees the decision failed.
    await expect(t.svc.decide(t.intent.intent_id, t.intent.payload_hash, 'approve')).rejects.toThrow();
    const decisions = t.net.signedToSwapped.filter((r) => r.path.endsWith('/decision'));
    expect(decisions.map((r) => r.path)).toEqual([`/v1/intents/${t.intent.intent_id}/decision`]);
    const body = JSON.parse(decisions[0]!.body) as {
      approval: { statement: ApprovalStatement; signature: string };
      sealed_secret?: string;
    };
    // Bound to the hub URL, this intent, the payload hash shown and the agent's nonce, signed by the device key: it
    // approves that one request and nothing else, wherever it is replayed.
    expect(body.approval.statement).toMatchObject({
      hub: ORIGIN,
      intent_id: t.intent.intent_id,
      payload_hash: t.intent.payload_hash,
      decision: 'approve',
      agent_nonce: t.intent.agent_nonce,
    });
    expect(body.sealed_secret).toBeUndefined();
    const deviceKey = (await t.service.deviceSigner()).publicKey;
    expect(
      ed25519.verify(fromBase64Url(body.approval.signature), approvalBytes(body.approval.statement), deviceKey),
    ).toBe(true);
  });
});
