// The agent SDK against the real in-process hub: a registered, claimed and pinned AgentClient and the human's device
// (signing with its real key), shared by the SDK tests and the adversary tests that play a lying hub.
import { ed25519 } from '@noble/curves/ed25519.js';
import { expect } from 'vitest';
import { AgentClient, type AgentState, type FetchLike } from '../../../lib/agent';
import { fromBase64UrlFixed } from '../../../lib/protocol/base64url';
import type { ClaimStatement } from '../../../lib/protocol/approval';
import {
  buildResponseDelivery,
  type HttpOutcome,
  type ResponseContext,
  type ResponseDelivery,
} from '../../../lib/protocol/sealed-response';
import type { Intent } from '../../../lib/protocol/wire';
import { ORIGIN, type hubFixture } from '../hub/flow';

export type Hub = Awaited<ReturnType<typeof hubFixture>>;
export type Device = Awaited<ReturnType<Hub['enrolledDevice']>>;

/** A fetch that calls the in-process hub app; `rewrite` may change a response body (a lying hub). */
export function appFetch(hub: Hub, rewrite?: (path: string, json: any) => any): FetchLike {
  return async (url, init) => {
    const res = await hub.app.request(url, init);
    if (!rewrite) return res;
    const path = new URL(url).pathname;
    const json = await res.json();
    return new Response(JSON.stringify(rewrite(path, json)), {
      status: res.status,
      headers: { 'content-type': 'application/json' },
    });
  };
}

export async function registered(
  hub: Hub,
  options: { rewrite?: (path: string, json: any) => any; scopes?: string[]; fetch?: FetchLike } = {},
) {
  const saved: AgentState[] = [];
  const client = new AgentClient({
    fetch: options.fetch ?? appFetch(hub, options.rewrite),
    now: () => hub.clock.now,
    onStateChange: (s) => void saved.push(s),
  });
  const reg = await client.register({
    hub: `${ORIGIN}/`,
    name: 'sdk-bot',
    manifest: { markdown: '# sdk-bot\nReads papers.' },
    requestedScopes: options.scopes ?? ['secret:read:arxiv-key', 'action:action.approve'],
  });
  const keys = client.state!;
  // The shape hubFixture().claimFor needs: what the human's device learns from the claim lookup.
  const asFixtureAgent = {
    agentId: reg.agent_id,
    claimCode: reg.claim_code,
    signingKey: fromBase64UrlFixed(client.publicKeys.signing_key, 32, 'k'),
    boxKey: fromBase64UrlFixed(client.publicKeys.box_key, 32, 'k'),
  } as unknown as Parameters<Hub['claimFor']>[1];
  return { client, reg, saved, keys, asFixtureAgent };
}

/**
 * A registered, claimed and pinned agent; `rewrite` lets a test play a lying hub on any response, `fetch` puts
 * another layer (MaliciousHub) between the client and the hub.
 */
export async function claimed(
  hub: Hub,
  rewrite?: { fn?: (path: string, json: any) => any },
  options: { granted?: ClaimStatement['granted_scopes']; fetch?: FetchLike } = {},
) {
  const device = await hub.enrolledDevice();
  const granted = options.granted ?? ['action:action.approve', 'secret:read:arxiv-key'];
  const r = await registered(hub, {
    rewrite: (path, json) => (rewrite?.fn ? rewrite.fn(path, json) : json),
    scopes: granted,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const claim = hub.claimFor(device, r.asFixtureAgent, { granted_scopes: [...granted].sort() });
  expect((await device.send('POST', '/v1/claims', { claim })).status).toBe(201);
  expect((await r.client.status()).pinned_now).toBe(true);
  return { ...r, device, installationId: claim.statement.installation_id };
}

/**
 * What the person's device returns for an http.request (lib/protocol/sealed-response.ts): the outcome sealed to the
 * agent's box key and signed with `signWith` (the device's key unless a test plays another), for `intent` unless
 * `context` says otherwise.
 */
export async function httpDelivery(
  hub: Hub,
  intent: Intent,
  outcome: HttpOutcome,
  boxKey: string,
  signWith: Uint8Array,
  context: Partial<ResponseContext> = {},
): Promise<ResponseDelivery> {
  return buildResponseDelivery({
    hub: ORIGIN,
    agent_id: intent.agent_id,
    installation_id: intent.installation_id,
    intent_id: intent.intent_id,
    payload_hash: intent.payload_hash,
    ...context,
    boxKey: fromBase64UrlFixed(boxKey, 32, 'box'),
    outcome,
    sign: async (m) => ed25519.sign(m, signWith),
    now: hub.clock.now,
  });
}

/** The device decides an http.request: approves with the outcome of the call it made, or denies (with a refusal). */
export async function decideHttp(
  hub: Hub,
  device: Device,
  intent: Intent,
  decision: 'approve' | 'deny',
  delivery?: ResponseDelivery,
): Promise<void> {
  const approval = hub.approvalFor(device, intent, decision);
  const res = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
    approval,
    ...(delivery ? { http_response: delivery } : {}),
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
}

/** A server's answer as the device seals it: `body` as text, the rest as given. */
export const responseOutcome = (
  body: string,
  over: Partial<Extract<HttpOutcome, { outcome: 'response' }>> = {},
): HttpOutcome => ({
  outcome: 'response',
  status: 200,
  headers: [['content-type', 'application/json']],
  body: Buffer.from(body, 'utf8').toString('base64'),
  redacted: [],
  withheld: false,
  redirect: null,
  ...over,
});
